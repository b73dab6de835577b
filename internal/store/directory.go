package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// The provider directory: approved indirect providers' listings, which
// resellers search; the contact requests resellers send providers through
// it; and every partner's business (marketing) profile. Lists are stored
// as comma-separated codes (none of the codes contains a comma).

// Listing is an indirect provider's directory listing.
type Listing struct {
	OrgID        string
	Published    bool
	Description  string
	Website      string
	ContactEmail string
	ContactPhone string
	Languages    []string // ISO 639-1 codes
	Services     []string // among csphub.ProviderServices
	Markets      []string // ISO 3166-1 alpha-2 countries
	UpdatedAt    time.Time
	Version      int
}

func joinCodes(codes []string) string { return strings.Join(codes, ",") }

func splitCodes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

const listingColumns = `l.org_id, l.published, l.description, l.website, l.contact_email, l.contact_phone,
	l.languages, l.services, l.markets, l.updated_at, l.version`

func scanListing(row interface{ Scan(...any) error }, extra ...any) (Listing, error) {
	var l Listing
	var languages, services, markets string
	err := row.Scan(append([]any{&l.OrgID, &l.Published, &l.Description, &l.Website, &l.ContactEmail, &l.ContactPhone,
		&languages, &services, &markets, &l.UpdatedAt, &l.Version}, extra...)...)
	l.Languages, l.Services, l.Markets, l.UpdatedAt = splitCodes(languages), splitCodes(services), splitCodes(markets), l.UpdatedAt.UTC()
	return l, err
}

// ProviderListing reads an organization's listing; ok is false when it has
// none yet. With lock, the row stays locked until commit.
func (tx *Tx) ProviderListing(orgID string, lock bool) (Listing, bool, error) {
	q := `SELECT ` + listingColumns + ` FROM provider_listings l WHERE l.org_id = ?`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	l, err := scanListing(tx.queryRow(q, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return Listing{OrgID: orgID, Languages: []string{}, Services: []string{}, Markets: []string{}}, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("read provider listing: %w", err)
	}
	return l, true, nil
}

// SaveProviderListing writes l if the stored listing is still at version
// prev (0: there is none yet); it reports false when another transaction
// wrote it first.
func (tx *Tx) SaveProviderListing(l Listing, prev int) (bool, error) {
	var res sql.Result
	var err error
	if prev == 0 {
		res, err = tx.exec(`INSERT INTO provider_listings (org_id, published, description, website, contact_email, contact_phone,
			languages, services, markets, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id) DO NOTHING`,
			l.OrgID, l.Published, l.Description, l.Website, l.ContactEmail, l.ContactPhone,
			joinCodes(l.Languages), joinCodes(l.Services), joinCodes(l.Markets), l.UpdatedAt, l.Version)
	} else {
		res, err = tx.exec(`UPDATE provider_listings SET published = ?, description = ?, website = ?, contact_email = ?, contact_phone = ?,
			languages = ?, services = ?, markets = ?, updated_at = ?, version = ? WHERE org_id = ? AND version = ?`,
			l.Published, l.Description, l.Website, l.ContactEmail, l.ContactPhone,
			joinCodes(l.Languages), joinCodes(l.Services), joinCodes(l.Markets), l.UpdatedAt, l.Version, l.OrgID, prev)
	}
	if err != nil {
		return false, fmt.Errorf("save provider listing: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DirectoryEntry is a published listing as the directory shows it: the
// provider's name, partner ID and country, the regions the operator
// authorized it for, and whether it works in the searcher's own region.
type DirectoryEntry struct {
	Listing
	Name         string
	PartnerID    string
	Country      string
	Regions      []string
	InHomeRegion bool
}

// DirectoryFilter narrows a directory search. HomeRegion, when set and no
// Region filter is given, lists the providers authorized for it first.
type DirectoryFilter struct {
	Region     string
	Service    string
	Prefix     string // of the provider's name (any case) or partner ID
	HomeRegion string
}

// DirectoryKeyset is the position of the last entry of a directory page,
// in the order (rank, name, id): rank 0 for the providers of the home
// region, 1 for the others.
type DirectoryKeyset struct {
	Rank int
	Name string
	ID   string
}

// directoryBase selects the published listings of approved providers with
// their names; every search and lookup starts from it.
const directoryBase = `SELECT ` + listingColumns + `, o.name, pp.partner_id, o.country, %s AS rnk
	FROM provider_listings l
	JOIN organizations o ON o.id = l.org_id
	JOIN partner_profiles pp ON pp.org_id = l.org_id
	WHERE l.published = ? AND EXISTS (SELECT 1 FROM enrollments e
		WHERE e.org_id = l.org_id AND e.program = 'indirect_provider' AND e.state = 'approved')`

// DirectoryProviders lists a page of the directory after the keyset
// position of the previous page, in one query; the regions of the page's
// providers come in a second one.
func (tx *Tx) DirectoryProviders(f DirectoryFilter, after *DirectoryKeyset, limit int) ([]DirectoryEntry, error) {
	rank, args := `0`, []any{}
	if f.Region == "" && f.HomeRegion != "" {
		rank = `CASE WHEN EXISTS (SELECT 1 FROM provider_regions h WHERE h.org_id = l.org_id AND h.region_code = ?) THEN 0 ELSE 1 END`
		args = append(args, f.HomeRegion)
	}
	inner := fmt.Sprintf(directoryBase, rank)
	args = append(args, true)
	if f.Region != "" {
		inner += ` AND EXISTS (SELECT 1 FROM provider_regions r WHERE r.org_id = l.org_id AND r.region_code = ?)`
		args = append(args, f.Region)
	}
	if f.Service != "" {
		inner += ` AND (',' || l.services || ',') LIKE ? ESCAPE '\'`
		args = append(args, "%,"+strings.TrimSuffix(likePrefix(f.Service), "%")+",%")
	}
	if f.Prefix != "" {
		inner += ` AND (lower(o.name) LIKE ? ESCAPE '\' OR pp.partner_id LIKE ? ESCAPE '\')`
		like := likePrefix(strings.ToLower(f.Prefix))
		args = append(args, like, likePrefix(f.Prefix))
	}
	q := `SELECT * FROM (` + inner + `) d`
	if after != nil {
		q += ` WHERE d.rnk > ? OR (d.rnk = ? AND (d.name > ? OR (d.name = ? AND d.org_id > ?)))`
		args = append(args, after.Rank, after.Rank, after.Name, after.Name, after.ID)
	}
	q += ` ORDER BY d.rnk, d.name, d.org_id LIMIT ?`
	rows, err := tx.query(q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("search the provider directory: %w", err)
	}
	defer rows.Close()
	out := []DirectoryEntry{}
	for rows.Next() {
		var e DirectoryEntry
		var rnk int
		l, err := scanListing(rows, &e.Name, &e.PartnerID, &e.Country, &rnk)
		if err != nil {
			return nil, err
		}
		e.Listing, e.InHomeRegion = l, rank != `0` && rnk == 0
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if err := tx.fillDirectoryRegions(out); err != nil {
		return nil, err
	}
	if f.Region != "" && f.HomeRegion != "" {
		for i := range out {
			for _, r := range out[i].Regions {
				out[i].InHomeRegion = out[i].InHomeRegion || r == f.HomeRegion
			}
		}
	}
	return out, nil
}

// fillDirectoryRegions reads the authorized regions of a page of
// providers in one query.
func (tx *Tx) fillDirectoryRegions(entries []DirectoryEntry) error {
	if len(entries) == 0 {
		return nil
	}
	index := make(map[string]int, len(entries))
	ids := make([]string, len(entries))
	for i, e := range entries {
		index[e.OrgID], ids[i] = i, e.OrgID
		entries[i].Regions = []string{}
	}
	rows, err := tx.query(`SELECT org_id, region_code FROM provider_regions WHERE org_id IN (`+inPlaceholders(len(ids))+`)
		ORDER BY org_id, region_code`, inArgs(ids)...)
	if err != nil {
		return fmt.Errorf("read provider regions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, region string
		if err := rows.Scan(&id, &region); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			entries[i].Regions = append(entries[i].Regions, region)
		}
	}
	return rows.Err()
}

// DirectoryProvider reads one provider as the directory shows it: a
// published listing of an approved provider, else not found.
func (tx *Tx) DirectoryProvider(orgID string) (DirectoryEntry, error) {
	var e DirectoryEntry
	var rnk int
	l, err := scanListing(tx.queryRow(fmt.Sprintf(directoryBase, `0`)+` AND l.org_id = ?`, true, orgID), &e.Name, &e.PartnerID, &e.Country, &rnk)
	if errors.Is(err, sql.ErrNoRows) {
		return e, csphub.NotFound("provider")
	}
	if err != nil {
		return e, fmt.Errorf("read directory provider: %w", err)
	}
	e.Listing = l
	list := []DirectoryEntry{e}
	if err := tx.fillDirectoryRegions(list); err != nil {
		return e, err
	}
	return list[0], nil
}

// BusinessProfile is a partner's marketing profile.
type BusinessProfile struct {
	OrgID       string
	Description string
	Website     string
	Industries  []string
	UpdatedAt   time.Time
	Version     int
}

// BusinessProfileOf reads an organization's business profile; ok is false
// when it has none yet. With lock, the row stays locked until commit.
func (tx *Tx) BusinessProfileOf(orgID string, lock bool) (BusinessProfile, bool, error) {
	q := `SELECT org_id, description, website, industries, updated_at, version FROM business_profiles WHERE org_id = ?`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	var p BusinessProfile
	var industries string
	err := tx.queryRow(q, orgID).Scan(&p.OrgID, &p.Description, &p.Website, &industries, &p.UpdatedAt, &p.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return BusinessProfile{OrgID: orgID, Industries: []string{}}, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("read business profile: %w", err)
	}
	p.Industries, p.UpdatedAt = splitCodes(industries), p.UpdatedAt.UTC()
	return p, true, nil
}

// SaveBusinessProfile writes p if the stored profile is still at version
// prev (0: there is none yet); it reports false when another transaction
// wrote it first.
func (tx *Tx) SaveBusinessProfile(p BusinessProfile, prev int) (bool, error) {
	var res sql.Result
	var err error
	if prev == 0 {
		res, err = tx.exec(`INSERT INTO business_profiles (org_id, description, website, industries, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id) DO NOTHING`,
			p.OrgID, p.Description, p.Website, joinCodes(p.Industries), p.UpdatedAt, p.Version)
	} else {
		res, err = tx.exec(`UPDATE business_profiles SET description = ?, website = ?, industries = ?, updated_at = ?, version = ?
			WHERE org_id = ? AND version = ?`, p.Description, p.Website, joinCodes(p.Industries), p.UpdatedAt, p.Version, p.OrgID, prev)
	}
	if err != nil {
		return false, fmt.Errorf("save business profile: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ContactRequest is a reseller's message to a provider found in the
// directory.
type ContactRequest struct {
	ID         string
	ProviderID string
	ResellerID string
	UserID     string // the user or API token that sent it
	Message    string
	CreatedAt  time.Time
	ReadAt     *time.Time
}

// ContactRequestRow is a contact request as the provider's inbox shows
// it: who sent it, by name.
type ContactRequestRow struct {
	ContactRequest
	ResellerName      string
	ResellerPartnerID string
	SenderName        string // "" when the sender was an API token or is gone
	SenderEmail       string
}

// InsertContactRequest stores a new contact request.
func (tx *Tx) InsertContactRequest(c ContactRequest) error {
	if _, err := tx.exec(`INSERT INTO contact_requests (id, provider_id, reseller_id, user_id, message, created_at, read_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, c.ID, c.ProviderID, c.ResellerID, c.UserID, c.Message, c.CreatedAt, c.ReadAt); err != nil {
		return fmt.Errorf("insert contact request: %w", err)
	}
	return nil
}

// LockContactRequestSender locks the sending organization's row until
// commit, so that two requests of one reseller are counted one after the
// other against its daily limit.
func (tx *Tx) LockContactRequestSender(resellerID string) error {
	var id string
	err := tx.queryRow(`SELECT id FROM organizations WHERE id = ?`+tx.db.dialect.lockClause(), resellerID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return csphub.NotFound("organization")
	}
	if err != nil {
		return fmt.Errorf("lock organization: %w", err)
	}
	return nil
}

// ContactRequestsSince counts the contact requests a reseller sent after
// since, and returns the time of the oldest of them (zero when none).
func (tx *Tx) ContactRequestsSince(resellerID string, since time.Time) (int, time.Time, error) {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM contact_requests WHERE reseller_id = ? AND created_at > ?`,
		resellerID, since).Scan(&n); err != nil {
		return 0, time.Time{}, fmt.Errorf("count contact requests: %w", err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var oldest time.Time
	if err := tx.queryRow(`SELECT created_at FROM contact_requests WHERE reseller_id = ? AND created_at > ?
		ORDER BY created_at LIMIT 1`, resellerID, since).Scan(&oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("oldest contact request: %w", err)
	}
	return n, oldest.UTC(), nil
}

const contactRequestRowQuery = `SELECT c.id, c.provider_id, c.reseller_id, c.user_id, c.message, c.created_at, c.read_at,
	o.name, COALESCE(pp.partner_id, ''), COALESCE(u.name, ''), COALESCE(u.email, '')
	FROM contact_requests c
	JOIN organizations o ON o.id = c.reseller_id
	LEFT JOIN partner_profiles pp ON pp.org_id = c.reseller_id
	LEFT JOIN users u ON u.org_id = c.reseller_id AND u.id = c.user_id`

func scanContactRequestRow(row interface{ Scan(...any) error }) (ContactRequestRow, error) {
	var r ContactRequestRow
	var read sql.NullTime
	err := row.Scan(&r.ID, &r.ProviderID, &r.ResellerID, &r.UserID, &r.Message, &r.CreatedAt, &read,
		&r.ResellerName, &r.ResellerPartnerID, &r.SenderName, &r.SenderEmail)
	r.CreatedAt = r.CreatedAt.UTC()
	if read.Valid {
		t := read.Time.UTC()
		r.ReadAt = &t
	}
	return r, err
}

// ContactRequestOf reads one contact request sent to the provider.
func (tx *Tx) ContactRequestOf(providerID, id string) (ContactRequestRow, error) {
	r, err := scanContactRequestRow(tx.queryRow(contactRequestRowQuery+` WHERE c.provider_id = ? AND c.id = ?`, providerID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, csphub.NotFound("contact_request")
	}
	if err != nil {
		return r, fmt.Errorf("read contact request: %w", err)
	}
	return r, nil
}

// ContactRequests lists the requests sent to a provider, newest first,
// after the keyset position of the previous page.
func (tx *Tx) ContactRequests(providerID string, after *Keyset, limit int) ([]ContactRequestRow, error) {
	q, args := contactRequestRowQuery+` WHERE c.provider_id = ?`, []any{providerID}
	if after != nil {
		q += ` AND (c.created_at < ? OR (c.created_at = ? AND c.id < ?))`
		args = append(args, after.At, after.At, after.ID)
	}
	q += ` ORDER BY c.created_at DESC, c.id DESC LIMIT ?`
	rows, err := tx.query(q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list contact requests: %w", err)
	}
	defer rows.Close()
	out := []ContactRequestRow{}
	for rows.Next() {
		r, err := scanContactRequestRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkContactRequestRead records that the provider read a request; it
// reports false when it was read already.
func (tx *Tx) MarkContactRequestRead(providerID, id string) (bool, error) {
	res, err := tx.exec(`UPDATE contact_requests SET read_at = ? WHERE provider_id = ? AND id = ? AND read_at IS NULL`, tx.now, providerID, id)
	if err != nil {
		return false, fmt.Errorf("mark contact request read: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
