package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub"
)

// Web-mail domains the operator refuses for a partner's primary contact,
// on top of the built-in list the service keeps. The list is the
// deployment's, not a tenant's: only the operator edits it, and every
// enrollment reads it.

// WebmailDomain is one domain of the operator's list.
type WebmailDomain struct {
	Domain    string    `json:"domain"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by" doc:"Id of the user or API token that added it"`
}

// WebmailDomains lists the operator's web-mail domains by name.
func (tx *Tx) WebmailDomains() ([]WebmailDomain, error) {
	rows, err := tx.query(`SELECT domain, created_at, created_by FROM webmail_domains ORDER BY domain`)
	if err != nil {
		return nil, fmt.Errorf("read webmail domains: %w", err)
	}
	defer rows.Close()
	out := []WebmailDomain{}
	for rows.Next() {
		var d WebmailDomain
		if err := rows.Scan(&d.Domain, &d.CreatedAt, &d.CreatedBy); err != nil {
			return nil, err
		}
		d.CreatedAt = d.CreatedAt.UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// CountWebmailDomains counts the operator's web-mail domains.
func (tx *Tx) CountWebmailDomains() (int, error) {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM webmail_domains`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count webmail domains: %w", err)
	}
	return n, nil
}

// WebmailDomain reads one domain of the operator's list; with lock, its
// row stays locked until commit.
func (tx *Tx) WebmailDomain(domain string, lock bool) (WebmailDomain, error) {
	q := `SELECT domain, created_at, created_by FROM webmail_domains WHERE domain = ?`
	if lock {
		q += tx.db.dialect.lockClause()
	}
	var d WebmailDomain
	err := tx.queryRow(q, domain).Scan(&d.Domain, &d.CreatedAt, &d.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return d, csphub.NotFound("webmail_domain")
	}
	if err != nil {
		return d, fmt.Errorf("read webmail domain: %w", err)
	}
	d.CreatedAt = d.CreatedAt.UTC()
	return d, nil
}

// InsertWebmailDomain adds a domain to the operator's list; a domain
// already there is a webmail_domain_exists conflict. The insert does not
// fail on a duplicate (so a PostgreSQL transaction stays usable): it
// reports it.
func (tx *Tx) InsertWebmailDomain(d WebmailDomain) error {
	res, err := tx.exec(`INSERT INTO webmail_domains (domain, created_at, created_by) VALUES (?, ?, ?)
		ON CONFLICT (domain) DO NOTHING`, d.Domain, d.CreatedAt, d.CreatedBy)
	if err != nil {
		return fmt.Errorf("insert webmail domain: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return csphub.Conflict("webmail_domain_exists", d.Domain+" is already on the list of web-mail domains")
	}
	return nil
}

// DeleteWebmailDomain removes a domain from the operator's list.
func (tx *Tx) DeleteWebmailDomain(domain string) error {
	res, err := tx.exec(`DELETE FROM webmail_domains WHERE domain = ?`, domain)
	if err != nil {
		return fmt.Errorf("delete webmail domain: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return csphub.NotFound("webmail_domain")
	}
	return nil
}

// WebmailDomainListed reports whether any of domains is on the operator's
// list (one query, on the primary key). Callers pass a domain and its
// parent domains to match subdomains.
func (tx *Tx) WebmailDomainListed(domains []string) (bool, error) {
	if len(domains) == 0 {
		return false, nil
	}
	args := make([]any, len(domains))
	for i, d := range domains {
		args[i] = d
	}
	var one int
	err := tx.queryRow(`SELECT 1 FROM webmail_domains WHERE domain IN (?`+strings.Repeat(", ?", len(domains)-1)+`) LIMIT 1`, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read webmail domains: %w", err)
	}
	return true, nil
}
