package api

import "sort"

// RoutesWithoutAccessRule lists registered routes missing from the
// authorization table; such routes refuse every caller.
func RoutesWithoutAccessRule(a *API) []string {
	var out []string
	for _, p := range a.mux.patterns {
		if _, ok := authorization[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// AccessRulesWithoutRoute lists authorization entries that name no route.
func AccessRulesWithoutRoute(a *API) []string {
	var out []string
	for p := range authorization {
		if _, ok := a.access[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
