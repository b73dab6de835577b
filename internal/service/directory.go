package service

import (
	"context"
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"csphub"
	"csphub/internal/countries"
	cmail "csphub/internal/mail"
	"csphub/internal/store"
)

// The provider directory and business profiles.
//
//   - An approved indirect provider keeps a listing (description, website,
//     contact, languages, services, markets within the regions the operator
//     authorized it for) and publishes it or not. Its global admins and
//     account admins edit it; any of its users reads it.
//   - Every partner user searches the published listings of approved
//     providers by region, service and name, the providers of their own
//     region first.
//   - A user of an approved indirect reseller sends a provider a contact
//     request: stored, emailed to the listing's contact address through
//     the outbox, and kept in the provider's inbox. A reseller sends at
//     most contactRequestsPerDay in 24 hours.
//   - Every partner keeps a business (marketing) profile, edited by its
//     global admins and account admins.
//
// None of it is done through a delegated admin grant: a listing, an inbox
// and a marketing profile belong to the organization's own users.

// Limits of the directory's texts and lists.
const (
	maxDirectoryText      = 2000
	maxWebsite            = 500
	maxListingLanguages   = 20
	maxListingMarkets     = 100
	maxIndustries         = 20
	maxDirectoryPrefix    = 100
	contactRequestsPerDay = 10
)

// BusinessIndustries are the industries a partner's business profile may
// name.
var BusinessIndustries = []string{
	"agriculture", "automotive", "construction", "education", "energy", "financial_services", "government", "healthcare",
	"hospitality", "manufacturing", "media", "nonprofit", "professional_services", "real_estate", "retail", "technology",
	"telecommunications", "transportation",
}

var (
	errDirectoryDelegated = csphub.Errorf(csphub.KindForbidden, "delegated_access_not_allowed",
		"the directory listing, the inbox and the business profile belong to the organization's own users, not to a delegated admin grant")
	errDirectoryPartnerOnly = csphub.Errorf(csphub.KindForbidden, "partner_required", "the provider directory is for partner organizations")
	errProviderNotApproved  = csphub.Conflict("provider_not_approved",
		"only an approved indirect provider has a directory listing and an inbox; apply for the indirect provider membership first")
	errListingEditor = csphub.Errorf(csphub.KindForbidden, "partner_admin_required",
		"only a global admin or account admin of the partner can do this")
)

// directoryMember refuses anyone but a user or API token of a partner
// acting in its own organization.
func directoryMember(actor csphub.Actor) error {
	if actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID {
		return errDirectoryDelegated
	}
	if actor.OrgKind != csphub.OrgPartner || actor.OrgID == "" || (actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken) {
		return errDirectoryPartnerOnly
	}
	return nil
}

// directoryEditor is directoryMember with the roles that edit a listing or
// a business profile.
func directoryEditor(actor csphub.Actor) error {
	if err := directoryMember(actor); err != nil {
		return err
	}
	if !actor.HasRole(csphub.RoleGlobalAdmin) && !actor.HasRole(csphub.RoleAccountAdmin) {
		return errListingEditor
	}
	return nil
}

// --- the listing ---

// ProviderListing is an indirect provider's directory listing.
type ProviderListing struct {
	OrganizationID string     `json:"organization_id"`
	Published      bool       `json:"published" doc:"Resellers find the listing in the directory only while it is published"`
	Description    string     `json:"description"`
	Website        string     `json:"website"`
	ContactEmail   string     `json:"contact_email" doc:"Where contact requests are emailed"`
	ContactPhone   string     `json:"contact_phone"`
	Languages      []string   `json:"languages" doc:"ISO 639-1 codes of the languages the provider works in"`
	Services       []string   `json:"services" doc:"Among technical_training, technical_support, marketing_help, credit_terms, financing"`
	Markets        []string   `json:"markets" doc:"Countries (ISO 3166-1 alpha-2) the provider sells in, within its authorized regions"`
	Regions        []string   `json:"regions" doc:"The regions the operator authorized the provider for (read-only)"`
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`
	Version        int        `json:"version" doc:"0 until the listing is first saved"`
}

// ListingInput replaces a provider's listing.
type ListingInput struct {
	Published    bool     `json:"published,omitempty" doc:"Publish the listing: it then needs a description and a contact email"`
	Description  string   `json:"description,omitempty" maxLength:"2000"`
	Website      string   `json:"website,omitempty" maxLength:"500" doc:"An https address"`
	ContactEmail string   `json:"contact_email,omitempty" maxLength:"254"`
	ContactPhone string   `json:"contact_phone,omitempty" maxLength:"40" doc:"A phone number of the provider's country"`
	Languages    []string `json:"languages,omitempty" maxItems:"20" doc:"ISO 639-1 codes, e.g. en, fr"`
	Services     []string `json:"services,omitempty" maxItems:"5"`
	Markets      []string `json:"markets,omitempty" maxItems:"100" doc:"Countries within the provider's authorized regions, e.g. FR"`
}

// ListingETag is the entity tag of a listing: its version.
func ListingETag(l ProviderListing) string { return `"l` + strconv.Itoa(l.Version) + `"` }

func listingView(l store.Listing, regions []string) ProviderListing {
	v := ProviderListing{OrganizationID: l.OrgID, Published: l.Published, Description: l.Description, Website: l.Website,
		ContactEmail: l.ContactEmail, ContactPhone: l.ContactPhone, Languages: l.Languages, Services: l.Services,
		Markets: l.Markets, Regions: regions, Version: l.Version}
	if l.Version > 0 {
		t := l.UpdatedAt
		v.UpdatedAt = &t
	}
	return v
}

// approvedProvider reads the standing of the actor's organization and
// refuses it unless it is an approved indirect provider.
func (s *Service) approvedProvider(tx *store.Tx, orgID string) (PartnerStanding, error) {
	st, err := s.partnerStanding(tx, orgID)
	if err != nil {
		return st, err
	}
	if !st.ProviderApproved {
		return st, errProviderNotApproved
	}
	return st, nil
}

// GetProviderListing shows the caller's listing; an approved provider that
// never saved one gets an empty, unpublished listing at version 0.
func (s *Service) GetProviderListing(ctx context.Context, actor csphub.Actor) (ProviderListing, error) {
	if err := directoryMember(actor); err != nil {
		return ProviderListing{}, err
	}
	return read(ctx, s, func(tx *store.Tx) (ProviderListing, error) {
		st, err := s.approvedProvider(tx, actor.OrgID)
		if err != nil {
			return ProviderListing{}, err
		}
		l, _, err := tx.ProviderListing(actor.OrgID, false)
		if err != nil {
			return ProviderListing{}, err
		}
		return listingView(l, st.ProviderRegions), nil
	})
}

// UpdateProviderListing replaces the caller's listing. ifMatch, when
// given, must name the listing's current entity tag.
func (s *Service) UpdateProviderListing(ctx context.Context, actor csphub.Actor, ifMatch string, in ListingInput) (ProviderListing, error) {
	if err := directoryEditor(actor); err != nil {
		return ProviderListing{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (ProviderListing, error) {
		orgID := actor.OrgID
		st, err := s.approvedProvider(tx, orgID)
		if err != nil {
			return ProviderListing{}, err
		}
		before, _, err := tx.ProviderListing(orgID, true)
		if err != nil {
			return ProviderListing{}, err
		}
		if !etagMatches(ifMatch, ListingETag(listingView(before, nil))) {
			return ProviderListing{}, csphub.Errorf(csphub.KindPreconditionFailed, "etag_mismatch",
				"the listing changed since you read it; read it again and apply your change again")
		}
		profile, err := tx.PartnerProfile(orgID, false)
		if err != nil {
			return ProviderListing{}, err
		}
		markets, err := tx.Markets()
		if err != nil {
			return ProviderListing{}, err
		}
		after, fields := normalizeListing(in, profile.Address.Country, st.ProviderRegions, markets)
		if len(fields) > 0 {
			return ProviderListing{}, csphub.Invalid(fields...)
		}
		after.OrgID = orgID
		if sameListing(before, after) {
			return listingView(before, st.ProviderRegions), nil
		}
		after.Version, after.UpdatedAt = before.Version+1, tx.Now()
		if ok, err := tx.SaveProviderListing(after, before.Version); err != nil || !ok {
			return ProviderListing{}, orConflict(err, ok)
		}
		var was any
		if before.Version > 0 {
			was = listingView(before, st.ProviderRegions)
		}
		view := listingView(after, st.ProviderRegions)
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "provider_listing.update", ResourceType: "provider_listing", ResourceID: orgID,
			Before: was, After: view}); err != nil {
			return ProviderListing{}, err
		}
		return view, tx.Emit(actor, csphub.EventEntry{Type: "provider_listing.updated", Subject: orgID, Data: view})
	})
}

func sameListing(a, b store.Listing) bool {
	return a.Published == b.Published && a.Description == b.Description && a.Website == b.Website &&
		a.ContactEmail == b.ContactEmail && a.ContactPhone == b.ContactPhone && slices.Equal(a.Languages, b.Languages) &&
		slices.Equal(a.Services, b.Services) && slices.Equal(a.Markets, b.Markets)
}

// normalizeListing checks a listing field by field: the phone is one of
// the provider's country, the markets lie in its authorized regions.
func normalizeListing(in ListingInput, country string, regions []string, markets []csphub.Market) (store.Listing, []csphub.FieldError) {
	var fields []csphub.FieldError
	l := store.Listing{Published: in.Published, Languages: []string{}, Services: []string{}, Markets: []string{}}
	var fe *csphub.FieldError
	l.Description, fe = checkDirectoryText("description", in.Description)
	descriptionBad := fe != nil
	if descriptionBad {
		fields = append(fields, *fe)
	}
	l.Website = strings.TrimSpace(in.Website)
	if fe := checkHTTPS("website", l.Website); fe != nil {
		fields = append(fields, *fe)
	}
	if email := strings.TrimSpace(in.ContactEmail); email != "" {
		if l.ContactEmail, fe = checkEmail("contact_email", email); fe != nil {
			fields, l.ContactEmail = append(fields, *fe), email
		}
	}
	if phone := strings.TrimSpace(in.ContactPhone); phone != "" {
		if l.ContactPhone, fe = countries.NormalizePhone("contact_phone", country, phone); fe != nil {
			fields = append(fields, *fe)
		}
	}
	if len(in.Languages) > maxListingLanguages {
		fields = append(fields, csphub.FieldError{Field: "languages", Code: "too_many", Message: "must list at most 20 languages"})
	}
	for i, raw := range in.Languages {
		code := strings.ToLower(strings.TrimSpace(raw))
		if !validLanguage(code) {
			fields = append(fields, csphub.FieldError{Field: "languages[" + strconv.Itoa(i) + "]", Code: "unknown_language",
				Message: "must be an ISO 639-1 language code like en or fr"})
			continue
		}
		if !slices.Contains(l.Languages, code) {
			l.Languages = append(l.Languages, code)
		}
	}
	for i, svc := range in.Services {
		if !slices.Contains(csphub.ProviderServices, svc) {
			fields = append(fields, csphub.FieldError{Field: "services[" + strconv.Itoa(i) + "]", Code: "unknown_service",
				Message: "must be one of " + strings.Join(csphub.ProviderServices, ", ")})
		}
	}
	for _, svc := range csphub.ProviderServices {
		if slices.Contains(in.Services, svc) {
			l.Services = append(l.Services, svc)
		}
	}
	if len(in.Markets) > maxListingMarkets {
		fields = append(fields, csphub.FieldError{Field: "markets", Code: "too_many", Message: "must list at most 100 countries"})
	}
	regionOf := make(map[string]string, len(markets))
	for _, m := range markets {
		regionOf[m.Country] = m.RegionCode
	}
	for i, raw := range in.Markets {
		c := strings.ToUpper(strings.TrimSpace(raw))
		field := "markets[" + strconv.Itoa(i) + "]"
		region, known := regionOf[c]
		switch {
		case !known:
			fields = append(fields, csphub.FieldError{Field: field, Code: "unknown_market", Message: "is not a country where the program sells"})
			continue
		case !slices.Contains(regions, region):
			fields = append(fields, csphub.FieldError{Field: field, Code: "market_not_authorized",
				Message: "lies in the region " + region + ", which the operator has not authorized you for"})
			continue
		}
		if !slices.Contains(l.Markets, c) {
			l.Markets = append(l.Markets, c)
		}
	}
	slices.Sort(l.Markets)
	if in.Published {
		if l.Description == "" && !descriptionBad {
			fields = append(fields, csphub.FieldError{Field: "description", Code: "required", Message: "is required to publish the listing"})
		}
		if strings.TrimSpace(in.ContactEmail) == "" {
			fields = append(fields, csphub.FieldError{Field: "contact_email", Code: "required",
				Message: "is required to publish the listing: contact requests are emailed there"})
		}
	}
	return l, fields
}

// validLanguage: an ISO 639-1 code (two lower-case letters) of a known
// language.
func validLanguage(code string) bool {
	if len(code) != 2 || code[0] < 'a' || code[0] > 'z' || code[1] < 'a' || code[1] > 'z' {
		return false
	}
	b, err := language.ParseBase(code)
	return err == nil && b.String() == code
}

// checkDirectoryText trims a free text of the directory and checks its
// length.
func checkDirectoryText(field, s string) (string, *csphub.FieldError) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if utf8.RuneCountInString(s) > maxDirectoryText || strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
		return s, &csphub.FieldError{Field: field, Code: "too_long", Message: "must be at most 2000 characters"}
	}
	return s, nil
}

// checkHTTPS checks an optional https web address.
func checkHTTPS(field, site string) *csphub.FieldError {
	if site == "" {
		return nil
	}
	u, err := url.Parse(site)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(site) > maxWebsite || strings.ContainsAny(site, " \t\r\n") {
		return &csphub.FieldError{Field: field, Code: "invalid_url", Message: "must be an https web address like https://contoso.com"}
	}
	return nil
}

// --- the directory ---

// DirectoryQuery filters the provider directory.
type DirectoryQuery struct {
	Region    string // one region code, or "" for every one
	Service   string // one of csphub.ProviderServices, or ""
	Q         string // prefix of the provider's name or partner ID
	PageToken string
	PageSize  int
}

// DirectoryProvider is a published listing as resellers find it.
type DirectoryProvider struct {
	OrganizationID string    `json:"organization_id"`
	Name           string    `json:"name"`
	PartnerID      string    `json:"partner_id"`
	Country        string    `json:"country"`
	Regions        []string  `json:"regions" doc:"The regions the provider is authorized for"`
	InYourRegion   bool      `json:"in_your_region" doc:"The provider is authorized for the caller's region"`
	Markets        []string  `json:"markets"`
	Languages      []string  `json:"languages"`
	Services       []string  `json:"services"`
	Description    string    `json:"description"`
	Website        string    `json:"website,omitempty"`
	ContactEmail   string    `json:"contact_email"`
	ContactPhone   string    `json:"contact_phone,omitempty"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// DirectoryPage is one page of the directory: with no region filter, the
// providers of the caller's region first, then by name.
type DirectoryPage struct {
	Items         []DirectoryProvider `json:"items"`
	YourRegion    string              `json:"your_region,omitempty" doc:"The caller's region, from its legal country"`
	CanContact    bool                `json:"can_contact" doc:"The caller may send contact requests: its indirect reseller membership is approved"`
	NextPageToken string              `json:"next_page_token,omitempty"`
}

func directoryView(e store.DirectoryEntry) DirectoryProvider {
	return DirectoryProvider{OrganizationID: e.OrgID, Name: e.Name, PartnerID: e.PartnerID, Country: e.Country, Regions: e.Regions,
		InYourRegion: e.InHomeRegion, Markets: e.Markets, Languages: e.Languages, Services: e.Services, Description: e.Description,
		Website: e.Website, ContactEmail: e.ContactEmail, ContactPhone: e.ContactPhone, UpdatedAt: e.UpdatedAt}
}

func encodeDirectoryKeyset(k store.DirectoryKeyset) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(k.Rank) + "|" + k.ID + "|" + k.Name))
}

func decodeDirectoryKeyset(token string) (*store.DirectoryKeyset, error) {
	if token == "" {
		return nil, nil
	}
	bad := csphub.Invalid(csphub.FieldError{Field: "page_token", Code: "invalid_page_token", Message: "is not a page token from this list"})
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad
	}
	parts := strings.SplitN(string(raw), "|", 3)
	if len(parts) != 3 || (parts[0] != "0" && parts[0] != "1") || !csphub.ValidID(parts[1]) || !utf8.ValidString(parts[2]) {
		return nil, bad
	}
	return &store.DirectoryKeyset{Rank: int(parts[0][0] - '0'), ID: parts[1], Name: parts[2]}, nil
}

// SearchProviderDirectory lists the published listings of approved
// providers for any partner user.
func (s *Service) SearchProviderDirectory(ctx context.Context, actor csphub.Actor, q DirectoryQuery) (DirectoryPage, error) {
	if actor.OrgKind != csphub.OrgPartner || (actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken) {
		return DirectoryPage{}, errDirectoryPartnerOnly
	}
	var fields []csphub.FieldError
	after, err := decodeDirectoryKeyset(q.PageToken)
	if err != nil {
		fields = append(fields, csphub.AsError(err).Fields...)
	}
	q.Region, q.Service, q.Q = strings.TrimSpace(q.Region), strings.TrimSpace(q.Service), strings.TrimSpace(q.Q)
	if q.Service != "" && !slices.Contains(csphub.ProviderServices, q.Service) {
		fields = append(fields, csphub.FieldError{Field: "service", Code: "unknown_service", Message: "must be one of " + strings.Join(csphub.ProviderServices, ", ")})
	}
	if utf8.RuneCountInString(q.Q) > maxDirectoryPrefix {
		fields = append(fields, csphub.FieldError{Field: "q", Code: "too_long", Message: "must be at most 100 characters"})
	}
	if q.PageSize <= 0 || q.PageSize > 100 {
		q.PageSize = 20
	}
	return read(ctx, s, func(tx *store.Tx) (DirectoryPage, error) {
		if q.Region != "" {
			known, err := tx.Regions()
			if err != nil {
				return DirectoryPage{}, err
			}
			if !slices.ContainsFunc(known, func(r csphub.Region) bool { return r.Code == q.Region }) {
				fields = append(fields, csphub.FieldError{Field: "region", Code: "unknown_region", Message: "is not a region of the program"})
			}
		}
		if len(fields) > 0 {
			return DirectoryPage{}, csphub.Invalid(fields...)
		}
		st, err := s.partnerStanding(tx, actor.TenantID())
		if err != nil {
			return DirectoryPage{}, err
		}
		list, err := tx.DirectoryProviders(store.DirectoryFilter{Region: q.Region, Service: q.Service, Prefix: q.Q, HomeRegion: st.Region},
			after, q.PageSize+1)
		if err != nil {
			return DirectoryPage{}, err
		}
		p := DirectoryPage{Items: make([]DirectoryProvider, 0, len(list)), YourRegion: st.Region,
			CanContact: st.ResellerApproved && (actor.OnBehalfOf == "" || actor.OnBehalfOf == actor.OrgID)}
		for _, e := range list[:min(len(list), q.PageSize)] {
			p.Items = append(p.Items, directoryView(e))
		}
		if len(list) > q.PageSize {
			last, rank := list[q.PageSize-1], 0
			if q.Region == "" && st.Region != "" && !last.InHomeRegion {
				rank = 1
			}
			p.NextPageToken = encodeDirectoryKeyset(store.DirectoryKeyset{Rank: rank, Name: last.Name, ID: last.OrgID})
		}
		return p, nil
	})
}

// --- contact requests ---

// ContactRequestInput is a reseller's message to a provider.
type ContactRequestInput struct {
	Message string `json:"message" minLength:"1" maxLength:"2000" doc:"What the reseller wants from the provider; the provider answers by email"`
}

// ContactRequestView is a contact request as both sides see it.
type ContactRequestView struct {
	ID                string     `json:"id"`
	ProviderID        string     `json:"provider_id"`
	ProviderName      string     `json:"provider_name,omitempty"`
	ResellerID        string     `json:"reseller_id"`
	ResellerName      string     `json:"reseller_name"`
	ResellerPartnerID string     `json:"reseller_partner_id"`
	SenderName        string     `json:"sender_name,omitempty"`
	SenderEmail       string     `json:"sender_email,omitempty" doc:"Where to answer"`
	Message           string     `json:"message"`
	CreatedAt         time.Time  `json:"created_at"`
	ReadAt            *time.Time `json:"read_at,omitempty"`
}

func contactRequestView(r store.ContactRequestRow) ContactRequestView {
	return ContactRequestView{ID: r.ID, ProviderID: r.ProviderID, ResellerID: r.ResellerID, ResellerName: r.ResellerName,
		ResellerPartnerID: r.ResellerPartnerID, SenderName: r.SenderName, SenderEmail: r.SenderEmail, Message: r.Message,
		CreatedAt: r.CreatedAt, ReadAt: r.ReadAt}
}

// SendContactRequest sends a provider found in the directory the
// reseller's message: stored for the provider's inbox, emailed to its
// listing's contact address, announced by an event.
func (s *Service) SendContactRequest(ctx context.Context, actor csphub.Actor, providerID string, in ContactRequestInput) (ContactRequestView, error) {
	if err := directoryMember(actor); err != nil {
		return ContactRequestView{}, err
	}
	if !csphub.ValidID(providerID) {
		return ContactRequestView{}, csphub.NotFound("provider")
	}
	message, fe := checkDirectoryText("message", in.Message)
	if fe == nil && message == "" {
		fe = &csphub.FieldError{Field: "message", Code: "required", Message: "is required: say what you expect from the provider"}
	}
	if fe != nil {
		return ContactRequestView{}, csphub.Invalid(*fe)
	}
	return write(ctx, s, func(tx *store.Tx) (ContactRequestView, error) {
		resellerID := actor.OrgID
		if err := tx.LockContactRequestSender(resellerID); err != nil {
			return ContactRequestView{}, err
		}
		st, err := s.partnerStanding(tx, resellerID)
		if err != nil {
			return ContactRequestView{}, err
		}
		if !st.ResellerApproved {
			return ContactRequestView{}, csphub.Conflict("reseller_not_approved",
				"only an approved indirect reseller can contact providers; finish your indirect reseller enrollment first")
		}
		provider, err := tx.DirectoryProvider(providerID)
		if err != nil {
			return ContactRequestView{}, err
		}
		if providerID == resellerID {
			return ContactRequestView{}, csphub.Errorf(csphub.KindUnprocessable, "own_listing", "this is your own listing")
		}
		now := tx.Now()
		n, oldest, err := tx.ContactRequestsSince(resellerID, now.Add(-24*time.Hour))
		if err != nil {
			return ContactRequestView{}, err
		}
		if n >= contactRequestsPerDay {
			e := csphub.Errorf(csphub.KindRateLimited, "contact_request_limit",
				"your organization sent %d contact requests in the last 24 hours, the most allowed; try again later", n)
			e.RetryAfter = max(1, int(oldest.Add(24*time.Hour).Sub(now).Seconds()+0.999))
			return ContactRequestView{}, e
		}
		c := store.ContactRequest{ID: csphub.NewID(), ProviderID: providerID, ResellerID: resellerID, UserID: actor.ID,
			Message: message, CreatedAt: now}
		if err := tx.InsertContactRequest(c); err != nil {
			return ContactRequestView{}, err
		}
		row, err := tx.ContactRequestOf(providerID, c.ID)
		if err != nil {
			return ContactRequestView{}, err
		}
		view := contactRequestView(row)
		view.ProviderName = provider.Name
		lang := cmail.English
		if p, err := tx.PartnerProfile(providerID, false); err == nil && p.PrimaryContact.Lang == string(cmail.French) {
			lang = cmail.French
		} else if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
			return ContactRequestView{}, err
		}
		if _, err := cmail.Enqueue(tx, providerID, cmail.ContactRequest{
			To:       cmail.Recipient{Address: provider.ContactEmail, Name: provider.Name, Lang: lang},
			Provider: provider.Name, Reseller: view.ResellerName, ResellerPartnerID: view.ResellerPartnerID,
			SenderName: view.SenderName, SenderEmail: view.SenderEmail, Message: message,
			Link: s.opts.BaseURL + "/partner/inbox",
		}); err != nil {
			return ContactRequestView{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "contact_request.create", ResourceType: "contact_request", ResourceID: c.ID,
			After: view}); err != nil {
			return ContactRequestView{}, err
		}
		return view, tx.Emit(actor, csphub.EventEntry{Type: "contact_request.received", Subject: c.ID, Data: view,
			Audience: []string{providerID}})
	})
}

// ContactRequestPage is one page of a provider's inbox, newest first.
type ContactRequestPage struct {
	Items         []ContactRequestView `json:"items"`
	NextPageToken string               `json:"next_page_token,omitempty"`
}

// ListContactRequests is the provider's inbox.
func (s *Service) ListContactRequests(ctx context.Context, actor csphub.Actor, pageToken string, pageSize int) (ContactRequestPage, error) {
	if err := directoryMember(actor); err != nil {
		return ContactRequestPage{}, err
	}
	after, err := decodeKeyset(pageToken)
	if err != nil {
		return ContactRequestPage{}, err
	}
	if pageSize <= 0 || pageSize > 100 {
		pageSize = 20
	}
	return read(ctx, s, func(tx *store.Tx) (ContactRequestPage, error) {
		if _, err := s.approvedProvider(tx, actor.OrgID); err != nil {
			return ContactRequestPage{}, err
		}
		rows, err := tx.ContactRequests(actor.OrgID, after, pageSize+1)
		if err != nil {
			return ContactRequestPage{}, err
		}
		p := ContactRequestPage{Items: make([]ContactRequestView, 0, len(rows))}
		for _, r := range rows[:min(len(rows), pageSize)] {
			p.Items = append(p.Items, contactRequestView(r))
		}
		if len(rows) > pageSize {
			last := p.Items[pageSize-1]
			p.NextPageToken = encodeKeyset(store.Keyset{At: last.CreatedAt, ID: last.ID})
		}
		return p, nil
	})
}

// MarkContactRequestRead records that the provider read a request;
// reading it again changes nothing.
func (s *Service) MarkContactRequestRead(ctx context.Context, actor csphub.Actor, id string) (ContactRequestView, error) {
	if err := directoryMember(actor); err != nil {
		return ContactRequestView{}, err
	}
	if !csphub.ValidID(id) {
		return ContactRequestView{}, csphub.NotFound("contact_request")
	}
	return write(ctx, s, func(tx *store.Tx) (ContactRequestView, error) {
		if _, err := s.approvedProvider(tx, actor.OrgID); err != nil {
			return ContactRequestView{}, err
		}
		before, err := tx.ContactRequestOf(actor.OrgID, id)
		if err != nil {
			return ContactRequestView{}, err
		}
		changed, err := tx.MarkContactRequestRead(actor.OrgID, id)
		if err != nil {
			return ContactRequestView{}, err
		}
		after, err := tx.ContactRequestOf(actor.OrgID, id)
		if err != nil {
			return ContactRequestView{}, err
		}
		view := contactRequestView(after)
		if !changed {
			return view, nil
		}
		return view, tx.Audit(actor, csphub.AuditEntry{Action: "contact_request.read", ResourceType: "contact_request", ResourceID: id,
			Before: contactRequestView(before), After: view})
	})
}

// --- the business profile ---

// BusinessProfileView is a partner's business (marketing) profile.
type BusinessProfileView struct {
	OrganizationID string     `json:"organization_id"`
	Description    string     `json:"description"`
	Website        string     `json:"website"`
	Industries     []string   `json:"industries"`
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`
	Version        int        `json:"version" doc:"0 until the profile is first saved"`
}

// BusinessProfilePatch changes a business profile; absent fields stay as
// they are.
type BusinessProfilePatch struct {
	Description *string   `json:"description,omitempty" maxLength:"2000"`
	Website     *string   `json:"website,omitempty" maxLength:"500" doc:"An https address, or empty"`
	Industries  *[]string `json:"industries,omitempty" maxItems:"20" doc:"The industries the partner serves, replacing the current ones"`
}

// BusinessProfileETag is the entity tag of a business profile: its version.
func BusinessProfileETag(p BusinessProfileView) string { return `"b` + strconv.Itoa(p.Version) + `"` }

func businessProfileView(p store.BusinessProfile) BusinessProfileView {
	v := BusinessProfileView{OrganizationID: p.OrgID, Description: p.Description, Website: p.Website, Industries: p.Industries, Version: p.Version}
	if p.Version > 0 {
		t := p.UpdatedAt
		v.UpdatedAt = &t
	}
	return v
}

// GetBusinessProfile shows the caller's business profile; a partner that
// never saved one gets an empty one at version 0.
func (s *Service) GetBusinessProfile(ctx context.Context, actor csphub.Actor) (BusinessProfileView, error) {
	if err := directoryMember(actor); err != nil {
		return BusinessProfileView{}, err
	}
	return read(ctx, s, func(tx *store.Tx) (BusinessProfileView, error) {
		p, _, err := tx.BusinessProfileOf(actor.OrgID, false)
		return businessProfileView(p), err
	})
}

// UpdateBusinessProfile changes the caller's business profile. ifMatch,
// when given, must name the profile's current entity tag.
func (s *Service) UpdateBusinessProfile(ctx context.Context, actor csphub.Actor, ifMatch string, in BusinessProfilePatch) (BusinessProfileView, error) {
	if err := directoryEditor(actor); err != nil {
		return BusinessProfileView{}, err
	}
	var fields []csphub.FieldError
	if in.Description != nil {
		d, fe := checkDirectoryText("description", *in.Description)
		if fe != nil {
			fields = append(fields, *fe)
		}
		in.Description = &d
	}
	if in.Website != nil {
		w := strings.TrimSpace(*in.Website)
		if fe := checkHTTPS("website", w); fe != nil {
			fields = append(fields, *fe)
		}
		in.Website = &w
	}
	var industries []string
	if in.Industries != nil {
		if len(*in.Industries) > maxIndustries {
			fields = append(fields, csphub.FieldError{Field: "industries", Code: "too_many", Message: "must list at most 20 industries"})
		}
		for i, ind := range *in.Industries {
			if !slices.Contains(BusinessIndustries, ind) {
				fields = append(fields, csphub.FieldError{Field: "industries[" + strconv.Itoa(i) + "]", Code: "unknown_industry",
					Message: "must be one of " + strings.Join(BusinessIndustries, ", ")})
			}
		}
		industries = []string{}
		for _, ind := range BusinessIndustries {
			if slices.Contains(*in.Industries, ind) {
				industries = append(industries, ind)
			}
		}
	}
	if len(fields) > 0 {
		return BusinessProfileView{}, csphub.Invalid(fields...)
	}
	return write(ctx, s, func(tx *store.Tx) (BusinessProfileView, error) {
		orgID := actor.OrgID
		before, _, err := tx.BusinessProfileOf(orgID, true)
		if err != nil {
			return BusinessProfileView{}, err
		}
		if !etagMatches(ifMatch, BusinessProfileETag(businessProfileView(before))) {
			return BusinessProfileView{}, csphub.Errorf(csphub.KindPreconditionFailed, "etag_mismatch",
				"the business profile changed since you read it; read it again and apply your change again")
		}
		after := before
		if in.Description != nil {
			after.Description = *in.Description
		}
		if in.Website != nil {
			after.Website = *in.Website
		}
		if industries != nil {
			after.Industries = industries
		}
		if after.Description == before.Description && after.Website == before.Website && slices.Equal(after.Industries, before.Industries) {
			return businessProfileView(before), nil
		}
		after.Version, after.UpdatedAt = before.Version+1, tx.Now()
		if ok, err := tx.SaveBusinessProfile(after, before.Version); err != nil || !ok {
			return BusinessProfileView{}, orConflict(err, ok)
		}
		var was any
		if before.Version > 0 {
			was = businessProfileView(before)
		}
		view := businessProfileView(after)
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "business_profile.update", ResourceType: "business_profile", ResourceID: orgID,
			Before: was, After: view}); err != nil {
			return BusinessProfileView{}, err
		}
		return view, tx.Emit(actor, csphub.EventEntry{Type: "business_profile.updated", Subject: orgID, Data: view})
	})
}
