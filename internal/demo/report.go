package demo

import (
	"csphub"
)

// Report describes the demo world: who signs in where, with which roles.
type Report struct {
	// Created is true when this run built the world, false when it was
	// there already and nothing was written.
	Created bool
	// Password is every demo user's password.
	Password string
	Parties  []Party
}

// Party is one organization of the world.
type Party struct {
	Name string
	// Kind is operator, indirect provider, indirect reseller or customer.
	Kind string
	// Standing says where it is in the program, e.g. "approved, agreement
	// accepted".
	Standing string
	Users    []User
}

// User is a demo user.
type User struct {
	Email string
	Name  string
	Roles []string
	// MFA: the user signs in with a TOTP code too (`csphub demo totp`).
	MFA bool
}

// Users lists every demo user.
func (r Report) Users() []User {
	var out []User
	for _, p := range r.Parties {
		out = append(out, p.Users...)
	}
	return out
}

// describe is the report of the world as defined: the same whether this
// run built it or found it.
func describe(created bool) Report {
	r := Report{Created: created, Password: Password}
	op := Party{Name: "Operator", Kind: "operator", Standing: "runs the program"}
	for _, u := range operatorUsers {
		op.Users = append(op.Users, User{Email: u.email(), Name: u.name(), Roles: []string{u.role}, MFA: true})
	}
	r.Parties = append(r.Parties, op)
	for _, p := range partners {
		party := Party{Name: p.legalName, Kind: "indirect reseller"}
		roles := []string{csphub.RoleGlobalAdmin, csphub.RoleAdminAgent}
		switch p.stage {
		case stageInReview:
			party.Standing, roles = "enrollment in review", []string{csphub.RoleGlobalAdmin}
		case stageApproved:
			party.Standing = "approved, agreement not accepted"
		case stageActive:
			party.Standing = "approved, agreement accepted"
		}
		if p.provider != nil {
			party.Kind = "indirect provider"
			party.Standing += ", listed in the directory"
		}
		party.Users = []User{{Email: p.adminEmail(), Name: p.admin.name(), Roles: roles, MFA: true}}
		r.Parties = append(r.Parties, party)
	}
	for _, c := range customers {
		r.Parties = append(r.Parties, Party{Name: c.name, Kind: "customer", Standing: "served by " + partnersOf(c.key),
			Users: []User{{Email: c.adminEmail(), Name: c.admin.name(), Roles: []string{csphub.RoleGlobalAdmin}}}})
	}
	return r
}

// partnersOf names a customer's resellers and providers.
func partnersOf(customer string) string {
	var names []string
	seen := map[string]bool{}
	for _, l := range links {
		if l.customer != customer {
			continue
		}
		for _, k := range []string{l.reseller, l.provider} {
			if !seen[k] {
				seen[k] = true
				names = append(names, partnerByKey(k).legalName)
			}
		}
	}
	out := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			out += " and "
		default:
			out += ", "
		}
		out += n
	}
	return out
}
