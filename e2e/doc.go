// Package e2e holds csphub's end-to-end tests: the web UI driven in a real
// headless Chromium, and tests that run several processes. It has no code
// outside its tests.
package e2e
