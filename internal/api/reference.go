package api

// referenceAccess: who may call the reference data routes (countries,
// regions, web-mail domains).
var referenceAccess = map[string]Access{}

func (a *API) referenceRoutes() {}
