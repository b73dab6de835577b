package demo

import (
	"strings"

	"csphub"
)

// Domain is the parent of every demo organization's domain, so every demo
// user's email ends with it. ".example" is reserved (RFC 2606): no real
// mailbox or company uses it.
const Domain = "demo.csphub.example"

// Password is the password of every demo user.
const Password = "demo passphrase 2026"

// IsDemoEmail reports whether email is an address of the demo world's
// domains.
func IsDemoEmail(email string) bool {
	_, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	return ok && strings.HasSuffix(domain, "."+Domain)
}

// stage is how far a partner goes through the program.
type stage int

const (
	stageInReview stage = iota // applied, email confirmed, waiting for the reviewer
	stageApproved              // approved, agreement not accepted yet
	stageActive                // approved and agreement accepted
)

// person is a user of the demo world; the email's local part and the
// organization's domain make the address.
type person struct {
	first, last, local, lang string
}

func (p person) name() string { return p.first + " " + p.last }

// partnerSpec is one partner organization of the world.
type partnerSpec struct {
	key       string
	legalName string
	slug      string // the first label of the domain
	address   csphub.Address
	phone     string
	admin     person
	stage     stage
	provider  *providerSpec // nil for a reseller alone
}

func (p partnerSpec) domain() string     { return p.slug + "." + Domain }
func (p partnerSpec) adminEmail() string { return p.admin.local + "@" + p.domain() }

// providerSpec is what an indirect provider adds: the regions the operator
// authorizes and the directory listing.
type providerSpec struct {
	regions     []string
	description string
	languages   []string
	services    []string
	markets     []string
}

// operatorUser is a user of the operator organization.
type operatorUser struct {
	person
	role string
}

func (u operatorUser) email() string { return u.local + "@operator." + Domain }

// customerSpec is a customer organization, created by accepting its first
// reseller's invitation.
type customerSpec struct {
	key     string
	name    string
	slug    string
	country string
	admin   person
}

func (c customerSpec) domain() string     { return c.slug + "." + Domain }
func (c customerSpec) adminEmail() string { return c.admin.local + "@" + c.domain() }

// partnershipSpec is an accepted provider–reseller relationship.
type partnershipSpec struct{ provider, reseller string }

// linkSpec is an accepted customer invitation: the reseller invites the
// customer for the provider.
type linkSpec struct {
	reseller, provider, customer string
	resellerRoles, providerRoles []string
}

// orderSpec is an order a provider places for a customer, naming the
// reseller of record; lines are offer codes of the sample catalogue and
// quantities.
type orderSpec struct {
	provider, reseller, customer string
	lines                        []orderLineSpec
}

type orderLineSpec struct {
	offer    string
	quantity int
}

// The world. The operator admin publishes the agreement, authorizes the
// providers' regions and imports the catalogue; the reviewer decides on
// applications; the catalogue manager joins last.
var (
	operatorAdmin   = operatorUser{person{"Olivia", "Martin", "admin", "en"}, csphub.RoleOperatorAdmin}
	operatorUsers   = []operatorUser{operatorAdmin, reviewerUser, catalogManager}
	reviewerUser    = operatorUser{person{"Ravi", "Patel", "reviewer", "en"}, csphub.RoleVerificationReviewer}
	catalogManager  = operatorUser{person{"Chloé", "Dubois", "catalog", "fr"}, csphub.RoleCatalogManager}
	agreementRegion = []string{"europe", "north_america"}

	partners = []partnerSpec{
		{
			key: "contoso", legalName: "Contoso Distribution SAS", slug: "contoso-distribution",
			address: csphub.Address{Line1: "12 rue de la Paix", City: "Paris", PostalCode: "75002", Country: "FR"},
			phone:   "+33 1 42 68 53 00", admin: person{"Camille", "Bernard", "camille.bernard", "fr"}, stage: stageActive,
			provider: &providerSpec{
				regions:     []string{"europe"},
				description: "Distributor of cloud services across Europe: technical training, pre-sales and 24/7 support, marketing funds and credit lines for resellers.",
				languages:   []string{"fr", "en", "de"},
				services:    []string{"technical_training", "technical_support", "marketing_help", "credit_terms"},
				markets:     []string{"FR", "BE", "DE", "NL", "IT", "ES"},
			},
		},
		{
			key: "northwind", legalName: "Northwind Supply Inc.", slug: "northwind-supply",
			address: csphub.Address{Line1: "500 Pine Street", City: "Seattle", State: "WA", PostalCode: "98101", Country: "US"},
			phone:   "+1 206 555 0100", admin: person{"Morgan", "Lee", "morgan.lee", "en"}, stage: stageActive,
			provider: &providerSpec{
				regions:     []string{"north_america", "europe"},
				description: "North American distributor also serving European resellers: onboarding, technical support, financing and marketing help.",
				languages:   []string{"en", "fr"},
				services:    []string{"technical_support", "marketing_help", "financing"},
				markets:     []string{"US", "CA", "DE", "NL", "GB"},
			},
		},
		{
			key: "fabrikam", legalName: "Fabrikam IT GmbH", slug: "fabrikam-it",
			address: csphub.Address{Line1: "Friedrichstraße 123", City: "Berlin", PostalCode: "10117", Country: "DE"},
			phone:   "+49 30 1234567", admin: person{"Jonas", "Weber", "jonas.weber", "en"}, stage: stageActive,
		},
		{
			key: "tailspin", legalName: "Tailspin Cloud Ltd.", slug: "tailspin-cloud",
			address: csphub.Address{Line1: "100 King Street West", City: "Toronto", State: "ON", PostalCode: "M5X 1A9", Country: "CA"},
			phone:   "+1 416 555 0123", admin: person{"Avery", "Martin", "avery.martin", "en"}, stage: stageActive,
		},
		{
			key: "litware", legalName: "Litware Conseil SARL", slug: "litware-conseil",
			address: csphub.Address{Line1: "8 place Bellecour", City: "Lyon", PostalCode: "69002", Country: "FR"},
			phone:   "+33 4 72 10 30 30", admin: person{"Léa", "Girard", "lea.girard", "fr"}, stage: stageApproved,
		},
		{
			key: "adatum", legalName: "Adatum Services B.V.", slug: "adatum-services",
			address: csphub.Address{Line1: "Herengracht 100", City: "Amsterdam", PostalCode: "1015 BS", Country: "NL"},
			phone:   "+31 20 123 4567", admin: person{"Daan", "de Vries", "daan.devries", "en"}, stage: stageInReview,
		},
	}

	partnerships = []partnershipSpec{
		{"contoso", "fabrikam"},
		{"northwind", "fabrikam"},
		{"northwind", "tailspin"},
	}

	customers = []customerSpec{
		{key: "alpine", name: "Alpine Ski House GmbH", slug: "alpine-ski-house", country: "DE", admin: person{"Lena", "Fischer", "lena.fischer", "en"}},
		{key: "blueyonder", name: "Blue Yonder Hôtels SA", slug: "blue-yonder-hotels", country: "FR", admin: person{"Hugo", "Moreau", "hugo.moreau", "fr"}},
		{key: "coho", name: "Coho Winery B.V.", slug: "coho-winery", country: "NL", admin: person{"Sanne", "Bakker", "sanne.bakker", "en"}},
		{key: "wingtip", name: "Wingtip Toys Ltd.", slug: "wingtip-toys", country: "CA", admin: person{"Noah", "Tremblay", "noah.tremblay", "en"}},
		{key: "woodgrove", name: "Woodgrove Clinic LLC", slug: "woodgrove-clinic", country: "US", admin: person{"Emma", "Johnson", "emma.johnson", "en"}},
	}

	// The first link of a customer creates it; a later one (Alpine Ski
	// House with its second provider) is accepted by its signed-in admin.
	links = []linkSpec{
		{reseller: "fabrikam", provider: "contoso", customer: "alpine", resellerRoles: []string{csphub.RoleGlobalAdmin}},
		{reseller: "fabrikam", provider: "contoso", customer: "blueyonder", resellerRoles: []string{csphub.RoleGlobalAdmin}},
		{reseller: "fabrikam", provider: "northwind", customer: "coho", resellerRoles: []string{csphub.RoleGlobalAdmin}},
		{reseller: "fabrikam", provider: "northwind", customer: "alpine", providerRoles: []string{csphub.RoleBillingAdmin}},
		{reseller: "tailspin", provider: "northwind", customer: "wingtip", resellerRoles: []string{csphub.RoleGlobalAdmin}, providerRoles: []string{csphub.RoleBillingAdmin}},
		{reseller: "tailspin", provider: "northwind", customer: "woodgrove", resellerRoles: []string{csphub.RoleGlobalAdmin}},
	}

	orders = []orderSpec{
		{provider: "contoso", reseller: "fabrikam", customer: "alpine", lines: []orderLineSpec{{"CP-STANDARD-DE-P1Y", 25}, {"CB-1TB-DE-P1M", 2}}},
		{provider: "northwind", reseller: "fabrikam", customer: "alpine", lines: []orderLineSpec{{"CS-STANDARD-DE-P1M", 25}}},
		{provider: "contoso", reseller: "fabrikam", customer: "blueyonder", lines: []orderLineSpec{{"CP-PREMIUM-FR-P1Y", 12}}},
		{provider: "northwind", reseller: "fabrikam", customer: "coho", lines: []orderLineSpec{{"CP-STANDARD-NL-P1M", 8}}},
		{provider: "northwind", reseller: "tailspin", customer: "wingtip", lines: []orderLineSpec{{"CP-STANDARD-CA-P1M", 15}, {"CS-STANDARD-CA-P1M", 15}}},
		{provider: "northwind", reseller: "tailspin", customer: "woodgrove", lines: []orderLineSpec{{"CP-PREMIUM-US-P1Y", 40}}},
	}

	// Left waiting for an answer: Contoso's invitation to Litware (which
	// must accept the agreement before it can sell), and Tailspin's
	// invitation of a prospective customer.
	pendingPartnership = partnershipSpec{"contoso", "litware"}
	pendingCustomer    = struct {
		reseller, provider, company, email string
	}{"tailspin", "northwind", "Lucerne Publishing Inc.", "it@lucerne-publishing." + Domain}
)

func partnerByKey(key string) partnerSpec {
	for _, p := range partners {
		if p.key == key {
			return p
		}
	}
	panic("demo: no partner " + key)
}

func customerByKey(key string) customerSpec {
	for _, c := range customers {
		if c.key == key {
			return c
		}
	}
	panic("demo: no customer " + key)
}
