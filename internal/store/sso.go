package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"csphub"
)

// SSOConfig is an organization's OpenID Connect provider, with the client
// secret that only the sign-in use case reads.
type SSOConfig struct {
	OrgID          string
	Issuer         string
	ClientID       string
	ClientSecret   string
	AllowedDomains []string
	DisabledAt     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Enabled reports whether users may sign in through the provider.
func (c SSOConfig) Enabled() bool { return c.DisabledAt == nil }

// SSOConfig reads the provider settings of the tenant orgID. In a write
// transaction the row stays locked until commit, so that a configuration
// change and a sign-in do not interleave.
func (tx *Tx) SSOConfig(orgID string) (SSOConfig, error) {
	var c SSOConfig
	var disabled sql.NullTime
	lock := ""
	if tx.writable {
		lock = tx.db.dialect.lockClause()
	}
	err := tx.queryRow(`SELECT org_id, issuer, client_id, client_secret, disabled_at, created_at, updated_at
		FROM sso_configs WHERE org_id = ?`+lock, orgID).
		Scan(&c.OrgID, &c.Issuer, &c.ClientID, &c.ClientSecret, &disabled, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, csphub.NotFound("sso_config")
	}
	if err != nil {
		return c, fmt.Errorf("read sso config: %w", err)
	}
	if disabled.Valid {
		t := disabled.Time.UTC()
		c.DisabledAt = &t
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	rows, err := tx.query(`SELECT domain FROM sso_domains WHERE org_id = ? ORDER BY domain`, orgID)
	if err != nil {
		return c, fmt.Errorf("read sso domains: %w", err)
	}
	defer rows.Close()
	c.AllowedDomains = []string{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return c, err
		}
		c.AllowedDomains = append(c.AllowedDomains, d)
	}
	return c, rows.Err()
}

// SaveSSOConfig creates or replaces the provider settings of c.OrgID,
// enabled, with exactly c.AllowedDomains.
func (tx *Tx) SaveSSOConfig(c SSOConfig) error {
	// An upsert, so that two first configurations racing on PostgreSQL do
	// not fail on the primary key.
	_, err := tx.exec(`INSERT INTO sso_configs (org_id, issuer, client_id, client_secret, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id,
			client_secret = excluded.client_secret, disabled_at = NULL, updated_at = excluded.updated_at`,
		c.OrgID, c.Issuer, c.ClientID, c.ClientSecret, tx.now, tx.now)
	if err != nil {
		return fmt.Errorf("save sso config: %w", err)
	}
	if _, err := tx.exec(`DELETE FROM sso_domains WHERE org_id = ?`, c.OrgID); err != nil {
		return fmt.Errorf("replace sso domains: %w", err)
	}
	for _, d := range c.AllowedDomains {
		if _, err := tx.exec(`INSERT INTO sso_domains (org_id, domain) VALUES (?, ?)`, c.OrgID, d); err != nil {
			return fmt.Errorf("insert sso domain: %w", err)
		}
	}
	return nil
}

// DisableSSOConfig turns sign-in through the provider of orgID off and
// voids the sign-ins in flight.
func (tx *Tx) DisableSSOConfig(orgID string) error {
	res, err := tx.exec(`UPDATE sso_configs SET disabled_at = ?, updated_at = ? WHERE org_id = ?`, tx.now, tx.now, orgID)
	if err != nil {
		return fmt.Errorf("disable sso config: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return csphub.NotFound("sso_config")
	}
	_, err = tx.exec(`DELETE FROM sso_attempts WHERE org_id = ?`, orgID)
	return err
}

// SSOOrgsForDomain lists the organizations whose enabled provider accepts
// email addresses of domain (normally one).
func (tx *Tx) SSOOrgsForDomain(domain string) ([]string, error) {
	rows, err := tx.query(`SELECT d.org_id FROM sso_domains d JOIN sso_configs c ON c.org_id = d.org_id
		WHERE d.domain = ? AND c.disabled_at IS NULL ORDER BY d.org_id LIMIT 2`, domain)
	if err != nil {
		return nil, fmt.Errorf("read sso domains: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// SSOAttempt is a sign-in in flight at an organization's provider.
type SSOAttempt struct {
	StateHash     string
	OrgID         string
	Issuer        string // the provider the browser was sent to
	ClientID      string
	NonceHash     string
	PKCEVerifier  string
	RedirectAfter string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// InsertSSOAttempt stores a new sign-in in flight. Expired attempts are
// removed on the way, so that abandoned sign-ins do not pile up.
func (tx *Tx) InsertSSOAttempt(a SSOAttempt) error {
	if _, err := tx.exec(`DELETE FROM sso_attempts WHERE expires_at <= ?`, tx.now); err != nil {
		return fmt.Errorf("purge sso attempts: %w", err)
	}
	_, err := tx.exec(`INSERT INTO sso_attempts (state_hash, org_id, issuer, client_id, nonce_hash, pkce_verifier, redirect_after, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.StateHash, a.OrgID, a.Issuer, a.ClientID, a.NonceHash, a.PKCEVerifier, a.RedirectAfter, a.CreatedAt, a.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert sso attempt: %w", err)
	}
	return nil
}

// errSSOStateInvalid answers an unknown, used or expired state alike.
var errSSOStateInvalid = csphub.Errorf(csphub.KindUnauthenticated, "sso_state_invalid",
	"this sign-in link has expired or was already used; start the sign-in again")

// ConsumeSSOAttempt returns the sign-in in flight of a state hash and marks
// it used, so that its state works once: an unknown, used or expired state
// fails, and of concurrent callbacks with one state only one succeeds.
func (tx *Tx) ConsumeSSOAttempt(stateHash string) (SSOAttempt, error) {
	res, err := tx.exec(`UPDATE sso_attempts SET used_at = ? WHERE state_hash = ? AND used_at IS NULL AND expires_at > ?`,
		tx.now, stateHash, tx.now)
	if err != nil {
		return SSOAttempt{}, fmt.Errorf("use sso attempt: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return SSOAttempt{}, errSSOStateInvalid
	}
	var a SSOAttempt
	err = tx.queryRow(`SELECT state_hash, org_id, issuer, client_id, nonce_hash, pkce_verifier, redirect_after, created_at, expires_at
		FROM sso_attempts WHERE state_hash = ?`, stateHash).
		Scan(&a.StateHash, &a.OrgID, &a.Issuer, &a.ClientID, &a.NonceHash, &a.PKCEVerifier, &a.RedirectAfter, &a.CreatedAt, &a.ExpiresAt)
	if err != nil {
		return SSOAttempt{}, fmt.Errorf("read sso attempt: %w", err)
	}
	a.CreatedAt, a.ExpiresAt = a.CreatedAt.UTC(), a.ExpiresAt.UTC()
	return a, nil
}
