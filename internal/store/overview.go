package store

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// The overview pages (migration 00010): a partner's figures, the
// program's figures for the operator, the providers of each region and an
// organization's newest audit records. Every figure is a COUNT of one
// index range, all of a page's read in one statement.

// openStates are the enrollment states still waiting for an outcome, as
// SQL literals: literals, not placeholders, so that both engines match the
// queries to their indexes when planning them.
const openStates = `('submitted', 'email_verification_pending', 'in_review', 'info_requested')`

// PartnerCounts are the figures of a partner's overview.
type PartnerCounts struct {
	ActiveResellers            int // its relationships as provider that are active
	OpenPartnerInvitations     int // its invitations of resellers still waiting for an answer
	ActiveProviders            int // its relationships as reseller that are active
	PendingCustomerInvitations int // its customer invitations still waiting for an answer
	Customers                  int // customers with a live relationship with it, each once
	ActiveSubscriptions        int // active subscriptions naming it as provider or reseller of record
	OrdersSince                int // orders it placed as provider since the given time
}

// partnerCountsQuery counts each figure of PartnerCounts in one range of
// an index; partnerCountsArgs gives its arguments.
const partnerCountsQuery = `SELECT
	(SELECT COUNT(*) FROM partnerships WHERE provider_id = ? AND state = 'active'),
	(SELECT COUNT(*) FROM partnerships WHERE provider_id = ? AND state = 'invited' AND expires_at > ?),
	(SELECT COUNT(*) FROM partnerships WHERE reseller_id = ? AND state = 'active'),
	(SELECT COUNT(*) FROM customer_invitations WHERE reseller_id = ? AND state = 'pending' AND expires_at > ?),
	(SELECT COUNT(*) FROM customer_relationships WHERE partner_id = ? AND state = 'active'),
	(SELECT COUNT(*) FROM subscriptions WHERE status = 'active' AND (provider_id = ? OR reseller_id = ?)),
	(SELECT COUNT(*) FROM orders WHERE provider_id = ? AND created_at >= ?)`

func partnerCountsArgs(orgID string, now, since time.Time) []any {
	return []any{orgID, orgID, now, orgID, orgID, now, orgID, orgID, orgID, orgID, since}
}

// PartnerCounts counts, for the partner orgID, what its overview shows.
// An invitation waits for an answer while it is open and not past its
// expiry at now (the expiry job may not have run yet); orders count from
// since on.
func (tx *Tx) PartnerCounts(orgID string, now, since time.Time) (PartnerCounts, error) {
	var c PartnerCounts
	err := tx.queryRow(partnerCountsQuery, partnerCountsArgs(orgID, now, since)...).
		Scan(&c.ActiveResellers, &c.OpenPartnerInvitations, &c.ActiveProviders, &c.PendingCustomerInvitations,
			&c.Customers, &c.ActiveSubscriptions, &c.OrdersSince)
	if err != nil {
		return c, fmt.Errorf("count partner figures: %w", err)
	}
	return c, nil
}

// ProgramCounts are the figures of the operator's overview.
type ProgramCounts struct {
	PartnersEnrolling   int // indirect reseller applications still open
	PartnersApproved    int // approved indirect reseller memberships
	ProvidersApplying   int // indirect provider applications still open
	ProvidersApproved   int // approved indirect provider memberships
	ActiveProviders     int // providers with at least one active relationship
	ActiveResellers     int // resellers with at least one active relationship
	Customers           int // customer organizations
	ActiveSubscriptions int
	OrdersSince         int // orders placed since the given time
	QueueOpen           int // applications of either program still open
	QueueOverdue        int // of those, the ones past their due date at now
}

// programCountsQuery counts each figure of ProgramCounts in one range of
// an index, or one scan of an index for the distinct partners; its
// arguments are since, then now.
const programCountsQuery = `SELECT
	(SELECT COUNT(*) FROM enrollments WHERE program = 'indirect_reseller' AND state IN ` + openStates + `),
	(SELECT COUNT(*) FROM enrollments WHERE program = 'indirect_reseller' AND state = 'approved'),
	(SELECT COUNT(*) FROM enrollments WHERE program = 'indirect_provider' AND state IN ` + openStates + `),
	(SELECT COUNT(*) FROM enrollments WHERE program = 'indirect_provider' AND state = 'approved'),
	(SELECT COUNT(DISTINCT provider_id) FROM partnerships WHERE state = 'active'),
	(SELECT COUNT(DISTINCT reseller_id) FROM partnerships WHERE state = 'active' AND reseller_id IS NOT NULL),
	(SELECT COUNT(*) FROM organizations WHERE kind = 'customer'),
	(SELECT COUNT(*) FROM subscriptions WHERE status = 'active'),
	(SELECT COUNT(*) FROM orders WHERE created_at >= ?),
	(SELECT COUNT(*) FROM enrollments WHERE state IN ` + openStates + `),
	(SELECT COUNT(*) FROM enrollments WHERE state IN ` + openStates + ` AND due_at < ?)`

// ProgramCounts counts the whole program, for the operator (whose right to
// read it the service checks): every partner is a row of it, so there is
// no tenant to narrow by. An application is overdue once now is after its
// due date, as csphub.Enrollment.Overdue says.
func (tx *Tx) ProgramCounts(now, since time.Time) (ProgramCounts, error) {
	var c ProgramCounts
	err := tx.queryRow(programCountsQuery, since, now).
		Scan(&c.PartnersEnrolling, &c.PartnersApproved, &c.ProvidersApplying, &c.ProvidersApproved,
			&c.ActiveProviders, &c.ActiveResellers, &c.Customers, &c.ActiveSubscriptions, &c.OrdersSince,
			&c.QueueOpen, &c.QueueOverdue)
	if err != nil {
		return c, fmt.Errorf("count program figures: %w", err)
	}
	return c, nil
}

// RegionProvider is an approved indirect provider authorized for a region.
type RegionProvider struct {
	RegionCode string
	OrgID      string
	Name       string
	PartnerID  string
}

// ProvidersByRegion lists, for the operator, the approved indirect
// providers of every region, by region code and then name, in one query.
// A provider whose membership went back to review keeps its regions but
// is left out until approved again.
func (tx *Tx) ProvidersByRegion() ([]RegionProvider, error) {
	rows, err := tx.query(`SELECT r.region_code, o.id, o.name, COALESCE(pp.partner_id, '')
		FROM provider_regions r JOIN organizations o ON o.id = r.org_id
		LEFT JOIN partner_profiles pp ON pp.org_id = r.org_id
		WHERE EXISTS (SELECT 1 FROM enrollments e WHERE e.org_id = r.org_id AND e.program = 'indirect_provider' AND e.state = 'approved')
		ORDER BY r.region_code, o.name_key, o.id`)
	if err != nil {
		return nil, fmt.Errorf("read providers by region: %w", err)
	}
	defer rows.Close()
	out := []RegionProvider{}
	for rows.Next() {
		var p RegionProvider
		if err := rows.Scan(&p.RegionCode, &p.OrgID, &p.Name, &p.PartnerID); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// recentAuditQuery is the query of RecentAuditRecords: the newest records
// of orgID's own actors and the newest made in it on its behalf, each one
// range of its index read backwards, merged (an OR of the two columns
// would use neither index in id order). With before, both ranges start
// below that id.
func recentAuditQuery(orgID, before string, limit int) (string, []any) {
	keyset := ""
	mine := []any{orgID}
	delegated := []any{orgID, orgID}
	if before != "" {
		keyset = ` AND id < ?`
		mine = append(mine, before)
		delegated = append(delegated, before)
	}
	// Sign-ins and sign-outs change nothing: the activity is what changed.
	const changes = ` AND action NOT LIKE 'session.%'`
	q := `SELECT ` + auditColumns + ` FROM (
			SELECT ` + auditColumns + ` FROM audit_records WHERE actor_org_id = ?` + changes + keyset + ` ORDER BY id DESC LIMIT ?) mine
		UNION ALL
		SELECT ` + auditColumns + ` FROM (
			SELECT ` + auditColumns + ` FROM audit_records WHERE on_behalf_of = ? AND actor_org_id <> ?` + changes + keyset + ` ORDER BY id DESC LIMIT ?) delegated
		ORDER BY id DESC LIMIT ?`
	args := append(append(append(mine, limit), delegated...), limit, limit)
	return q, args
}

// RecentAuditRecords returns the newest audit records of orgID (changes
// its users and tokens made, and changes made inside it on its behalf;
// not sign-ins and sign-outs),
// newest first, at most limit of them; before, when not "", is the id of
// the last record of the previous page. Records not chained yet are
// included: ids are UUIDv7, in creation order.
func (tx *Tx) RecentAuditRecords(orgID, before string, limit int) ([]csphub.AuditRecord, error) {
	q, args := recentAuditQuery(orgID, before, limit)
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("read recent audit records: %w", err)
	}
	return scanAudits(rows)
}

// AuditActor is who an audit record names, as people know them: a user's
// name and email, an API token's name, and the organization they belong
// to.
type AuditActor struct {
	Kind    csphub.ActorKind
	ID      string
	OrgID   string
	Name    string
	Email   string
	OrgName string
}

// AuditActors names the users and API tokens of the audit records of
// orgID, in one query whatever their number, by "kind/id". Only the
// records of orgID count (its own, and those made in it on its behalf),
// and an actor is looked up in the organization the record says it
// belongs to; a deleted user or token is absent.
func (tx *Tx) AuditActors(orgID string, recs []csphub.AuditRecord) (map[string]AuditActor, error) {
	out := map[string]AuditActor{}
	ids := map[csphub.ActorKind][]any{}
	orgs := map[csphub.ActorKind][]any{}
	seen := map[string]bool{}
	for _, r := range recs {
		if r.ActorOrgID != orgID && r.OnBehalfOf != orgID {
			continue
		}
		if r.ActorKind != csphub.ActorUser && r.ActorKind != csphub.ActorToken || !csphub.ValidID(r.ActorID) || !csphub.ValidID(r.ActorOrgID) {
			continue
		}
		if k := string(r.ActorKind) + "/" + r.ActorID; !seen[k] {
			seen[k] = true
			ids[r.ActorKind] = append(ids[r.ActorKind], r.ActorID)
		}
		if k := string(r.ActorKind) + "@" + r.ActorOrgID; !seen[k] {
			seen[k] = true
			orgs[r.ActorKind] = append(orgs[r.ActorKind], r.ActorOrgID)
		}
	}
	var parts []string
	var args []any
	in := func(n int) string { return `(?` + strings.Repeat(`, ?`, n-1) + `)` }
	if u := ids[csphub.ActorUser]; len(u) > 0 {
		parts = append(parts, `SELECT 'user', u.id, u.org_id, u.name, u.email, o.name FROM users u JOIN organizations o ON o.id = u.org_id
			WHERE u.org_id IN `+in(len(orgs[csphub.ActorUser]))+` AND u.id IN `+in(len(u)))
		args = append(append(args, orgs[csphub.ActorUser]...), u...)
	}
	if t := ids[csphub.ActorToken]; len(t) > 0 {
		parts = append(parts, `SELECT 'api_token', t.id, t.org_id, t.name, '', o.name FROM api_tokens t JOIN organizations o ON o.id = t.org_id
			WHERE t.org_id IN `+in(len(orgs[csphub.ActorToken]))+` AND t.id IN `+in(len(t)))
		args = append(append(args, orgs[csphub.ActorToken]...), t...)
	}
	if len(parts) == 0 {
		return out, nil
	}
	rows, err := tx.query(strings.Join(parts, ` UNION ALL `), args...)
	if err != nil {
		return nil, fmt.Errorf("read audit actors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AuditActor
		var kind string
		var email sql.NullString
		if err := rows.Scan(&kind, &a.ID, &a.OrgID, &a.Name, &email, &a.OrgName); err != nil {
			return nil, err
		}
		a.Kind, a.Email = csphub.ActorKind(kind), email.String
		out[kind+"/"+a.ID] = a
	}
	return out, rows.Err()
}
