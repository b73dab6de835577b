package web

import (
	"csphub/internal/countries"
	"csphub/internal/i18n"
)

// countryHints are what the enrollment and profile forms tell about a
// country's formats: examples for the postal code and the phone number,
// and the states or regions to choose from when the country has a list.
type countryHints struct {
	Country        string
	Known          bool // the country has a rule; without one nothing is hinted
	PostalUsed     bool
	PostalRequired bool
	PostalExample  string
	PhoneExample   string
	StateRequired  bool
	States         []stateOption
}

type stateOption struct {
	Code string
	Name string
}

// countryHints reads the country's rule. A country without one gets no
// hints, an optional postal code and a free-text state field.
func (h *Handler) countryHints(_ *i18n.Localizer, country string) countryHints {
	rule, ok := countries.Lookup(country)
	if !ok {
		return countryHints{Country: country, PostalUsed: true}
	}
	hints := countryHints{Country: rule.Code, Known: true,
		PostalUsed: rule.PostalCode.Used, PostalRequired: rule.PostalCode.Required, PostalExample: rule.PostalCode.Example,
		PhoneExample: rule.Phone.Example, StateRequired: rule.State.Required}
	for _, s := range rule.State.Subdivisions {
		hints.States = append(hints.States, stateOption{Code: s.Code, Name: s.Name})
	}
	return hints
}

// programCountries are the countries the enrollment and profile forms
// offer: those of the sign-up form where the program has a rule (it
// operates there), named and sorted in the reader's language.
func (h *Handler) programCountries(l *i18n.Localizer) []countryOption {
	var out []countryOption
	for _, c := range h.countries[l.Lang()] {
		if _, ok := countries.Lookup(c.Code); ok {
			out = append(out, c)
		}
	}
	return out
}

// offeredCountry: code is one of the countries the forms offer.
func (h *Handler) offeredCountry(code string) bool {
	if _, ok := countries.Lookup(code); !ok || code == "" {
		return false
	}
	for _, c := range signupCountries {
		if c == code {
			return true
		}
	}
	return false
}
