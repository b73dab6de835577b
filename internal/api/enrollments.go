package api

// enrollmentAccess: who may call the enrollment, verification and partner
// profile routes.
var enrollmentAccess = map[string]Access{}

func (a *API) enrollmentRoutes() {}
