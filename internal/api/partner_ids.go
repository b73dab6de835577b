package api

// partnerIDAccess: who may call the partner ID routes.
var partnerIDAccess = map[string]Access{}

func (a *API) partnerIDRoutes() {}
