package csphub

// Region is a set of countries served together: a partner's region follows
// from its legal country and decides whom it may work with.
type Region struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Market is a country where the program sells, with its region and the
// currency it is priced in (ISO 4217).
type Market struct {
	Country    string `json:"country"`
	RegionCode string `json:"region"`
	Currency   string `json:"currency"`
}
