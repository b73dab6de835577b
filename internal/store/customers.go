package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// Customers: a reseller's invitations of customers, the customers'
// relationships with partners and the three-party links (migration 00007).
// Every read names the organization asking, except the lookup of an
// invitation by its link's token, which is the proof of the right to see it.

const customerInvitationColumns = `i.id, i.reseller_id, i.provider_id, i.email, i.company_name, i.lang, i.state, i.reseller_roles,
	i.provider_roles, i.invited_by, i.created_at, i.expires_at, i.last_sent_at, i.send_count, i.customer_id, i.answered_at, i.version`

func scanCustomerInvitation(row interface{ Scan(...any) error }) (csphub.CustomerInvitation, error) {
	var v csphub.CustomerInvitation
	var state, resellerRoles, providerRoles string
	var customer sql.NullString
	var answered sql.NullTime
	err := row.Scan(&v.ID, &v.ResellerID, &v.ProviderID, &v.Email, &v.CompanyName, &v.Lang, &state, &resellerRoles,
		&providerRoles, &v.InvitedBy, &v.CreatedAt, &v.ExpiresAt, &v.LastSentAt, &v.SendCount, &customer, &answered, &v.Version)
	if err != nil {
		return v, err
	}
	v.State = csphub.CustomerInvitationState(state)
	v.ResellerRoles, v.ProviderRoles = splitGrantRoles(resellerRoles), splitGrantRoles(providerRoles)
	v.CustomerID, v.AnsweredAt = customer.String, partnershipTime(answered)
	v.CreatedAt, v.ExpiresAt, v.LastSentAt = v.CreatedAt.UTC(), v.ExpiresAt.UTC(), v.LastSentAt.UTC()
	return v, nil
}

// InsertCustomerInvitation stores a new invitation with the hash of its
// link's token.
func (tx *Tx) InsertCustomerInvitation(v csphub.CustomerInvitation, tokenHash string) error {
	_, err := tx.exec(`INSERT INTO customer_invitations (id, reseller_id, provider_id, email, company_name, lang, state, reseller_roles,
		provider_roles, token_hash, invited_by, created_at, expires_at, last_sent_at, send_count, customer_id, answered_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.ResellerID, v.ProviderID, v.Email, v.CompanyName, v.Lang, string(v.State), strings.Join(v.ResellerRoles, ","),
		strings.Join(v.ProviderRoles, ","), tokenHash, v.InvitedBy, v.CreatedAt, v.ExpiresAt, v.LastSentAt, v.SendCount,
		nullString(v.CustomerID), v.AnsweredAt, v.Version)
	if err != nil {
		return fmt.Errorf("insert customer invitation: %w", err)
	}
	return nil
}

// CustomerInvitationByTokenHash reads the invitation whose link's token has
// this hash; with lock, its row stays locked until commit, so that
// concurrent answers to one link queue and only the first finds it open.
func (tx *Tx) CustomerInvitationByTokenHash(hash string, lock bool) (csphub.CustomerInvitation, error) {
	q := `SELECT ` + customerInvitationColumns + ` FROM customer_invitations i WHERE i.token_hash = ?`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	v, err := scanCustomerInvitation(tx.queryRow(q, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return v, csphub.NotFound("invitation")
	}
	if err != nil {
		return v, fmt.Errorf("read customer invitation: %w", err)
	}
	return v, nil
}

// CustomerInvitationForUpdate reads and locks one of a reseller's
// invitations.
func (tx *Tx) CustomerInvitationForUpdate(resellerID, id string) (csphub.CustomerInvitation, error) {
	v, err := scanCustomerInvitation(tx.queryRow(`SELECT `+customerInvitationColumns+` FROM customer_invitations i
		WHERE i.reseller_id = ? AND i.id = ?`+tx.db.dialect.lockClause(), resellerID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, csphub.NotFound("customer_invitation")
	}
	if err != nil {
		return v, fmt.Errorf("read customer invitation: %w", err)
	}
	return v, nil
}

// SaveCustomerInvitation writes an invitation's changing fields, provided
// it is still in state from at version v.Version-1; false means another
// change came first. A new token hash, when given, replaces the old one
// (a resent link).
func (tx *Tx) SaveCustomerInvitation(v csphub.CustomerInvitation, from csphub.CustomerInvitationState, tokenHash string) (bool, error) {
	q := `UPDATE customer_invitations SET state = ?, expires_at = ?, last_sent_at = ?, send_count = ?, customer_id = ?,
		answered_at = ?, version = ?`
	args := []any{string(v.State), v.ExpiresAt, v.LastSentAt, v.SendCount, nullString(v.CustomerID), v.AnsweredAt, v.Version}
	if tokenHash != "" {
		q += `, token_hash = ?`
		args = append(args, tokenHash)
	}
	q += ` WHERE id = ? AND reseller_id = ? AND state = ? AND version = ?`
	res, err := tx.exec(q, append(args, v.ID, v.ResellerID, string(from), v.Version-1)...)
	if err != nil {
		return false, fmt.Errorf("save customer invitation: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CustomerInvitationRow is an invitation with the provider's name.
type CustomerInvitationRow struct {
	csphub.CustomerInvitation
	ProviderName string
}

// CustomerInvitations lists a reseller's invitations, newest first (the
// customer_invitations_reseller index), optionally of one state, after the
// keyset position of the previous page.
func (tx *Tx) CustomerInvitations(resellerID, state string, after *Keyset, limit int) ([]CustomerInvitationRow, error) {
	q := `SELECT ` + customerInvitationColumns + `, o.name FROM customer_invitations i JOIN organizations o ON o.id = i.provider_id
		WHERE i.reseller_id = ?`
	args := []any{resellerID}
	if state != "" {
		q += ` AND i.state = ?`
		args = append(args, state)
	}
	if after != nil {
		q += ` AND (i.created_at, i.id) < (?, ?)`
		args = append(args, after.At, after.ID)
	}
	rows, err := tx.query(q+` ORDER BY i.created_at DESC, i.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list customer invitations: %w", err)
	}
	defer rows.Close()
	out := []CustomerInvitationRow{}
	for rows.Next() {
		var r CustomerInvitationRow
		inv, err := scanCustomerInvitation(scanWith(rows, &r.ProviderName))
		if err != nil {
			return nil, err
		}
		r.CustomerInvitation = inv
		out = append(out, r)
	}
	return out, rows.Err()
}

// DueCustomerInvitations returns, locked, up to limit pending invitations
// whose expiry is at or before now; rows another transaction holds are
// skipped.
func (tx *Tx) DueCustomerInvitations(now time.Time, limit int) ([]csphub.CustomerInvitation, error) {
	rows, err := tx.query(`SELECT `+customerInvitationColumns+` FROM customer_invitations i
		WHERE i.state = 'pending' AND i.expires_at <= ? ORDER BY i.expires_at, i.id LIMIT ?`+tx.db.dialect.skipLockedClause(), now, limit)
	if err != nil {
		return nil, fmt.Errorf("read due customer invitations: %w", err)
	}
	defer rows.Close()
	out := []csphub.CustomerInvitation{}
	for rows.Next() {
		v, err := scanCustomerInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanWith scans a row's leading columns with row's own Scan and the
// trailing ones into extra.
type extraScanner struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (s extraScanner) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra...)...) }

func scanWith(row interface{ Scan(...any) error }, extra ...any) extraScanner {
	return extraScanner{row: row, extra: extra}
}

// Customer relationships and links.

const customerRelationshipColumns = `r.id, r.customer_id, r.partner_id, r.kind, r.state, r.created_at, r.removed_at, r.removed_by, r.version`

func scanCustomerRelationship(row interface{ Scan(...any) error }) (csphub.CustomerRelationship, error) {
	var r csphub.CustomerRelationship
	var kind, state string
	var removedAt sql.NullTime
	var removedBy sql.NullString
	if err := row.Scan(&r.ID, &r.CustomerID, &r.PartnerID, &kind, &state, &r.CreatedAt, &removedAt, &removedBy, &r.Version); err != nil {
		return r, err
	}
	r.Role, r.State, r.CreatedAt = csphub.PartnerRole(kind), csphub.RelationshipState(state), r.CreatedAt.UTC()
	r.RemovedAt, r.RemovedBy = partnershipTime(removedAt), removedBy.String
	return r, nil
}

const customerLinkColumns = `l.id, l.customer_id, l.provider_id, l.reseller_id, l.state, l.invitation_id, l.created_at, l.removed_at,
	l.removed_by, l.version`

func scanCustomerLink(row interface{ Scan(...any) error }) (csphub.CustomerLink, error) {
	var l csphub.CustomerLink
	var state string
	var invitation, removedBy sql.NullString
	var removedAt sql.NullTime
	if err := row.Scan(&l.ID, &l.CustomerID, &l.ProviderID, &l.ResellerID, &state, &invitation, &l.CreatedAt, &removedAt,
		&removedBy, &l.Version); err != nil {
		return l, err
	}
	l.State, l.InvitationID, l.CreatedAt = csphub.RelationshipState(state), invitation.String, l.CreatedAt.UTC()
	l.RemovedAt, l.RemovedBy = partnershipTime(removedAt), removedBy.String
	return l, nil
}

// EnsureCustomerRelationship makes sure a customer has a live relationship
// with a partner: it returns the live one, or creates it with role. created
// reports which.
func (tx *Tx) EnsureCustomerRelationship(customer csphub.Organization, partnerID string, role csphub.PartnerRole) (csphub.CustomerRelationship, bool, error) {
	r, err := scanCustomerRelationship(tx.queryRow(`SELECT `+customerRelationshipColumns+` FROM customer_relationships r
		WHERE r.customer_id = ? AND r.partner_id = ? AND r.state = 'active'`+tx.db.dialect.lockClause(), customer.ID, partnerID))
	if err == nil {
		return r, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return r, false, fmt.Errorf("read customer relationship: %w", err)
	}
	r = csphub.CustomerRelationship{ID: csphub.NewID(), CustomerID: customer.ID, PartnerID: partnerID, Role: role,
		State: csphub.RelationshipActive, CreatedAt: tx.now, Version: 1}
	_, err = tx.exec(`INSERT INTO customer_relationships (id, customer_id, partner_id, kind, state, name_key, created_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.CustomerID, r.PartnerID, string(r.Role), string(r.State), nameKey(customer.Name),
		r.CreatedAt, r.Version)
	if err != nil {
		return r, false, fmt.Errorf("insert customer relationship: %w", err)
	}
	return r, true, nil
}

// InsertCustomerLink stores a new live link; a live link of the same three
// parties is a conflict (link_exists).
func (tx *Tx) InsertCustomerLink(customer csphub.Organization, l csphub.CustomerLink) error {
	_, err := tx.exec(`INSERT INTO customer_links (id, customer_id, provider_id, reseller_id, state, name_key, invitation_id, created_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, l.ID, l.CustomerID, l.ProviderID, l.ResellerID, string(l.State), nameKey(customer.Name),
		nullString(l.InvitationID), l.CreatedAt, l.Version)
	if err != nil {
		if tx.db.dialect.uniqueViolation(err) {
			return csphub.Conflict("relationship_exists", "this customer already has a reseller relationship with this provider naming this reseller")
		}
		return fmt.Errorf("insert customer link: %w", err)
	}
	return nil
}

// CustomerRelationshipRow is a customer relationship with the partner's
// name and partner ID.
type CustomerRelationshipRow struct {
	csphub.CustomerRelationship
	PartnerName      string
	PartnerPartnerID string
}

// CustomerRelationshipsOf lists a customer's relationships, live ones
// first, oldest first within each.
func (tx *Tx) CustomerRelationshipsOf(customerID string) ([]CustomerRelationshipRow, error) {
	rows, err := tx.query(`SELECT `+customerRelationshipColumns+`, o.name, pp.partner_id FROM customer_relationships r
		JOIN organizations o ON o.id = r.partner_id LEFT JOIN partner_profiles pp ON pp.org_id = r.partner_id
		WHERE r.customer_id = ? ORDER BY CASE WHEN r.state = 'active' THEN 0 ELSE 1 END, r.created_at, r.id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("list customer relationships: %w", err)
	}
	defer rows.Close()
	out := []CustomerRelationshipRow{}
	for rows.Next() {
		var r CustomerRelationshipRow
		var pid sql.NullString
		rel, err := scanCustomerRelationship(scanWith(rows, &r.PartnerName, &pid))
		if err != nil {
			return nil, err
		}
		r.CustomerRelationship, r.PartnerPartnerID = rel, pid.String
		out = append(out, r)
	}
	return out, rows.Err()
}

// CustomerRelationshipForUpdate reads and locks one of a customer's
// relationships.
func (tx *Tx) CustomerRelationshipForUpdate(customerID, id string) (csphub.CustomerRelationship, error) {
	r, err := scanCustomerRelationship(tx.queryRow(`SELECT `+customerRelationshipColumns+` FROM customer_relationships r
		WHERE r.customer_id = ? AND r.id = ?`+tx.db.dialect.lockClause(), customerID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, csphub.NotFound("relationship")
	}
	if err != nil {
		return r, fmt.Errorf("read customer relationship: %w", err)
	}
	return r, nil
}

// RemoveCustomerRelationship ends a live relationship, provided it is at
// the version read, and the live links naming its partner (as provider or
// as reseller); it returns the links it ended.
func (tx *Tx) RemoveCustomerRelationship(r csphub.CustomerRelationship, by string) ([]csphub.CustomerLink, bool, error) {
	res, err := tx.exec(`UPDATE customer_relationships SET state = 'removed', removed_at = ?, removed_by = ?, version = version + 1
		WHERE customer_id = ? AND id = ? AND state = 'active' AND version = ?`, tx.now, by, r.CustomerID, r.ID, r.Version)
	if err != nil {
		return nil, false, fmt.Errorf("remove customer relationship: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, false, err
	}
	links, err := tx.customerLinks(`WHERE l.customer_id = ? AND l.state = 'active' AND (l.provider_id = ? OR l.reseller_id = ?)`+
		tx.db.dialect.lockClause(), r.CustomerID, r.PartnerID, r.PartnerID)
	if err != nil {
		return nil, false, err
	}
	if _, err := tx.exec(`UPDATE customer_links SET state = 'removed', removed_at = ?, removed_by = ?, version = version + 1
		WHERE customer_id = ? AND state = 'active' AND (provider_id = ? OR reseller_id = ?)`,
		tx.now, by, r.CustomerID, r.PartnerID, r.PartnerID); err != nil {
		return nil, false, fmt.Errorf("remove customer links: %w", err)
	}
	return links, true, nil
}

// TerminateGrantsBetween ends the pending and active grants grantor gave
// grantee, and reports how many.
func (tx *Tx) TerminateGrantsBetween(grantorID, granteeID, endedBy string) (int64, error) {
	res, err := tx.exec(`UPDATE delegated_admin_grants SET state = 'terminated', ended_at = ?, ended_by = ?, updated_at = ?, version = version + 1
		WHERE grantee_id = ? AND grantor_id = ? AND state IN ('pending', 'active')`,
		tx.now, nullString(endedBy), tx.now, granteeID, grantorID)
	if err != nil {
		return 0, fmt.Errorf("terminate grants: %w", err)
	}
	return res.RowsAffected()
}

func (tx *Tx) customerLinks(where string, args ...any) ([]csphub.CustomerLink, error) {
	rows, err := tx.query(`SELECT `+customerLinkColumns+` FROM customer_links l `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read customer links: %w", err)
	}
	defer rows.Close()
	out := []csphub.CustomerLink{}
	for rows.Next() {
		l, err := scanCustomerLink(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// CustomerLinksOf lists a customer's links, oldest first.
func (tx *Tx) CustomerLinksOf(customerID string) ([]csphub.CustomerLink, error) {
	return tx.customerLinks(`WHERE l.customer_id = ? ORDER BY l.created_at, l.id`, customerID)
}

// LiveCustomerLink reads, and with lock locks, the live link of three
// parties (orders check it under lock, so that a concurrent removal
// commits either before the order sees it or after the order commits).
func (tx *Tx) LiveCustomerLink(customerID, providerID, resellerID string, lock bool) (csphub.CustomerLink, error) {
	q := `WHERE l.customer_id = ? AND l.provider_id = ? AND l.reseller_id = ? AND l.state = 'active'`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	links, err := tx.customerLinks(q, customerID, providerID, resellerID)
	if err != nil {
		return csphub.CustomerLink{}, err
	}
	if len(links) == 0 {
		return csphub.CustomerLink{}, csphub.NotFound("relationship")
	}
	return links[0], nil
}

// CustomerSort is the order of a customer list.
type CustomerSort string

const (
	CustomersByName CustomerSort = "name"
	CustomersByDate CustomerSort = "created"
)

// CustomerFilter says whose customers a list holds and how it is narrowed.
// Exactly one source applies: Operator (every customer organization); a
// partner's relationships (PartnerID alone); or the links of a provider
// through one reseller or of a reseller with one provider (PartnerID and
// Other, with Provider saying which side PartnerID is on).
type CustomerFilter struct {
	Operator  bool
	PartnerID string
	Other     string
	Provider  bool
	Prefix    string // of the customer's name (any case) or domain
	Sort      CustomerSort
}

// CustomerKeyset is the position of the last row of a page: (name key, id)
// or (time, id) by the sort.
type CustomerKeyset struct {
	Name string
	At   time.Time
	ID   string
}

// CustomerRow is a customer as a list shows it, with the time of the
// relationship the list reads (the organization's creation for the
// operator) and its partners of record, filled by CustomerPartners.
type CustomerRow struct {
	csphub.Organization
	NameKey  string
	Since    time.Time
	Partners []CustomerPartner
}

// CustomerPartner is one live relationship of a customer with a partner,
// with the reseller it names when the partner is a provider.
type CustomerPartner struct {
	OrgID     string
	Name      string
	PartnerID string
	Role      csphub.PartnerRole
	// For a provider, the resellers of its live links with this customer.
	Resellers []string
}

// Customers lists one page of customers in the order the filter asks,
// after the keyset position of the previous page: one index range of
// customer_relationships, customer_links or organizations, joined by key
// to the customers' organizations.
func (tx *Tx) Customers(f CustomerFilter, after *CustomerKeyset, limit int) ([]CustomerRow, error) {
	q, args := customersQuery(f, after, limit)
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	defer rows.Close()
	out := []CustomerRow{}
	for rows.Next() {
		var r CustomerRow
		var kind string
		if err := rows.Scan(&r.ID, &kind, &r.Name, &r.Country, &r.Domain, &r.CreatedAt, &r.NameKey, &r.Since); err != nil {
			return nil, fmt.Errorf("list customers: %w", err)
		}
		r.Kind, r.CreatedAt, r.Since = csphub.OrgKind(kind), r.CreatedAt.UTC(), r.Since.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// customersQuery is the query of one page of customers and its arguments.
func customersQuery(f CustomerFilter, after *CustomerKeyset, limit int) (string, []any) {
	var from, at string
	var args []any
	switch {
	case f.Operator:
		from, at = `FROM organizations o WHERE o.kind = 'customer'`, `o.created_at`
	case f.Other != "" && f.Provider:
		from, at = `FROM customer_links s JOIN organizations o ON o.id = s.customer_id
			WHERE s.provider_id = ? AND s.reseller_id = ? AND s.state = 'active'`, `s.created_at`
		args = []any{f.PartnerID, f.Other}
	case f.Other != "":
		from, at = `FROM customer_links s JOIN organizations o ON o.id = s.customer_id
			WHERE s.reseller_id = ? AND s.provider_id = ? AND s.state = 'active'`, `s.created_at`
		args = []any{f.PartnerID, f.Other}
	default:
		from, at = `FROM customer_relationships s JOIN organizations o ON o.id = s.customer_id
			WHERE s.partner_id = ? AND s.state = 'active'`, `s.created_at`
		args = []any{f.PartnerID}
	}
	key, id := `s.name_key`, `s.customer_id`
	if f.Operator {
		key, id = `o.name_key`, `o.id`
	}
	q := `SELECT o.id, o.kind, o.name, o.country, o.domain, o.created_at, ` + key + `, ` + at + ` ` + from
	if f.Prefix != "" {
		q += ` AND (` + key + ` LIKE ? ESCAPE '\' OR o.domain LIKE ? ESCAPE '\')`
		args = append(args, likePrefix(nameKey(f.Prefix)), likePrefix(strings.ToLower(strings.TrimSpace(f.Prefix))))
	}
	order := key + `, ` + id
	if f.Sort == CustomersByDate {
		order = at + ` DESC, ` + id + ` DESC`
	}
	if after != nil {
		if f.Sort == CustomersByDate {
			q += ` AND (` + at + `, ` + id + `) < (?, ?)`
			args = append(args, after.At, after.ID)
		} else {
			q += ` AND (` + key + `, ` + id + `) > (?, ?)`
			args = append(args, after.Name, after.ID)
		}
	}
	return q + ` ORDER BY ` + order + ` LIMIT ?`, append(args, limit)
}

// CustomerPartners fills the partners of record of a page of customers in
// two queries, whatever the page's size. Only the partners visible to
// viewer are kept: all of them for the operator (viewer ""), else the
// viewer itself and the partners it shares a link with.
func (tx *Tx) CustomerPartners(rows []CustomerRow, viewer string) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]any, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	in := `(?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	rels, err := tx.query(`SELECT r.customer_id, r.partner_id, r.kind, o.name, pp.partner_id FROM customer_relationships r
		JOIN organizations o ON o.id = r.partner_id LEFT JOIN partner_profiles pp ON pp.org_id = r.partner_id
		WHERE r.customer_id IN `+in+` AND r.state = 'active' ORDER BY r.customer_id, r.created_at, r.id`, ids...)
	if err != nil {
		return fmt.Errorf("read customer partners: %w", err)
	}
	defer rels.Close()
	partners := map[string][]CustomerPartner{}
	for rels.Next() {
		var customer, kind string
		var p CustomerPartner
		var pid sql.NullString
		if err := rels.Scan(&customer, &p.OrgID, &kind, &p.Name, &pid); err != nil {
			return fmt.Errorf("read customer partners: %w", err)
		}
		p.Role, p.PartnerID = csphub.PartnerRole(kind), pid.String
		partners[customer] = append(partners[customer], p)
	}
	if err := rels.Err(); err != nil {
		return err
	}
	rels.Close()
	links, err := tx.customerLinks(`WHERE l.customer_id IN `+in+` AND l.state = 'active'`, ids...)
	if err != nil {
		return err
	}
	shared := map[string]map[string]bool{} // customer → partners linked with the viewer
	resellers := map[[2]string][]string{}  // (customer, provider) → resellers
	for _, l := range links {
		k := [2]string{l.CustomerID, l.ProviderID}
		resellers[k] = append(resellers[k], l.ResellerID)
		if shared[l.CustomerID] == nil {
			shared[l.CustomerID] = map[string]bool{}
		}
		if l.ProviderID == viewer {
			shared[l.CustomerID][l.ResellerID] = true
		}
		if l.ResellerID == viewer {
			shared[l.CustomerID][l.ProviderID] = true
		}
	}
	for i := range rows {
		kept := []CustomerPartner{}
		for _, p := range partners[rows[i].ID] {
			if viewer != "" && p.OrgID != viewer && !shared[rows[i].ID][p.OrgID] {
				continue
			}
			// The resellers of the partner's links as provider, whatever its
			// relationship's kind: a customer's reseller may become its
			// provider too, and the relationship keeps its first kind.
			for _, r := range resellers[[2]string{rows[i].ID, p.OrgID}] {
				if viewer == "" || r == viewer || p.OrgID == viewer {
					p.Resellers = append(p.Resellers, r)
				}
			}
			kept = append(kept, p)
		}
		rows[i].Partners = kept
	}
	return nil
}

// CustomerVisible reports whether a partner has a live relationship with a
// customer (what lets it read the customer).
func (tx *Tx) CustomerVisible(partnerID, customerID string) (bool, error) {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM customer_relationships WHERE customer_id = ? AND partner_id = ? AND state = 'active'`,
		customerID, partnerID).Scan(&n); err != nil {
		return false, fmt.Errorf("read customer relationship: %w", err)
	}
	return n > 0, nil
}

// CustomerOrganization reads a customer organization by id, for a reader
// whose right to see it the caller has checked.
func (tx *Tx) CustomerOrganization(id string) (csphub.Organization, error) {
	return tx.organization(`WHERE id = ? AND kind = 'customer'`, id)
}

// LivePartnership reads the active or suspended relationship between a
// provider and a reseller, its row locked until commit when lock is set
// (FOR UPDATE on PostgreSQL), so that a termination committing meanwhile
// is seen or waits.
func (tx *Tx) LivePartnership(providerID, resellerID string, lock bool) (csphub.Partnership, error) {
	q := `SELECT ` + partnershipColumns + ` FROM partnerships p
		WHERE p.provider_id = ? AND p.reseller_id = ? AND p.state IN ('active', 'suspended')`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	p, err := scanPartnership(tx.queryRow(q, providerID, resellerID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, csphub.NotFound("partnership")
	}
	if err != nil {
		return p, fmt.Errorf("read partnership: %w", err)
	}
	return p, nil
}

// CustomerInvitationsSentSince counts the invitations a reseller created
// after since (the customer_invitations_reseller index), and returns the
// first of their times.
func (tx *Tx) CustomerInvitationsSentSince(resellerID string, since time.Time) (int, time.Time, error) {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM customer_invitations WHERE reseller_id = ? AND created_at > ?`,
		resellerID, since).Scan(&n); err != nil {
		return 0, time.Time{}, fmt.Errorf("count customer invitations: %w", err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var first time.Time
	if err := tx.queryRow(`SELECT created_at FROM customer_invitations WHERE reseller_id = ? AND created_at > ?
		ORDER BY created_at, id LIMIT 1`, resellerID, since).Scan(&first); err != nil {
		return 0, time.Time{}, fmt.Errorf("first customer invitation: %w", err)
	}
	return n, first.UTC(), nil
}
