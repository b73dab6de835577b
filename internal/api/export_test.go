package api

// RequestHash is exported for tests that claim keys directly.
var RequestHash = requestHash
