package api

// agreementAccess: who may call the partner agreement routes.
var agreementAccess = map[string]Access{}

func (a *API) agreementRoutes() {}
