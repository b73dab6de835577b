package service

import (
	"context"

	"csphub"
	"csphub/internal/store"
)

// AuditPage is one page of an organization's audit log.
type AuditPage struct {
	Records []csphub.AuditRecord `json:"records"`
	// Next is the position to pass as `after` for the following page.
	Next int64 `json:"next"`
}

// ListAuditRecords returns the audit log of the actor's organization:
// changes its users and tokens made, and changes made inside it on its
// behalf. actionPrefix "session." gives the security log (sign-ins,
// failures, MFA). Admins only.
func (s *Service) ListAuditRecords(ctx context.Context, actor csphub.Actor, after int64, limit int, actionPrefix string) (AuditPage, error) {
	if !auditReader(actor) {
		return AuditPage{}, csphub.Errorf(csphub.KindForbidden, "admin_required", "only a global admin or account admin can read the audit log")
	}
	if after < 0 {
		return AuditPage{}, csphub.Invalid(csphub.FieldError{Field: "after", Code: "out_of_range", Message: "must not be negative"})
	}
	return read(ctx, s, func(tx *store.Tx) (AuditPage, error) {
		recs, err := tx.AuditRecordsOf(actor.TenantID(), after, limit, actionPrefix)
		if err != nil {
			return AuditPage{}, err
		}
		p := AuditPage{Records: recs, Next: after}
		if n := len(recs); n > 0 {
			p.Next = recs[n-1].Position
		}
		return p, nil
	})
}
