package service

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"csphub"
	"csphub/internal/store"
)

// APITokenPrefix marks csphub API tokens, so that secret scanners can find
// a leaked one.
const APITokenPrefix = "csphub_"

const maxTokenLifetime = 366 * 24 * time.Hour

// CreateAPITokenInput names a new token, its roles and its expiry.
type CreateAPITokenInput struct {
	Name      string    `json:"name" minLength:"1" maxLength:"100" doc:"What the token is for"`
	Roles     []string  `json:"roles" minItems:"1" maxItems:"10" doc:"Roles the token acts with; at most those of its creator"`
	ExpiresAt time.Time `json:"expires_at" doc:"When the token stops working; at most one year from now"`
}

// CreatedAPIToken carries the token's secret, shown this once.
type CreatedAPIToken struct {
	csphub.APIToken
	Secret string `json:"secret" doc:"The bearer token; it is never shown again"`
}

func canManageCredentials(a csphub.Actor) bool {
	return a.Kind == csphub.ActorUser && a.OnBehalfOf == "" &&
		(a.HasRole(csphub.RoleGlobalAdmin) || a.HasRole(csphub.RoleAccountAdmin) || a.HasRole(csphub.RoleOperatorAdmin))
}

// CreateAPIToken creates a token for the actor's organization. Tokens are
// created by users (not by other tokens), and never carry a role their
// creator does not hold.
func (s *Service) CreateAPIToken(ctx context.Context, actor csphub.Actor, in CreateAPITokenInput) (CreatedAPIToken, error) {
	if !canManageCredentials(actor) {
		return CreatedAPIToken{}, csphub.Errorf(csphub.KindForbidden, "admin_required", "only a global admin or account admin can manage API tokens")
	}
	var fields []csphub.FieldError
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "\r\n\x00") {
		fields = append(fields, csphub.FieldError{Field: "name", Code: "invalid_name", Message: "must be 1 to 100 characters on one line"})
	}
	roles := slices.Compact(slices.Sorted(slices.Values(in.Roles)))
	if len(roles) == 0 {
		fields = append(fields, csphub.FieldError{Field: "roles", Code: "required", Message: "name at least one role"})
	}
	for _, r := range roles {
		switch {
		case !csphub.ValidRole(actor.OrgKind, r):
			fields = append(fields, csphub.FieldError{Field: "roles", Code: "unknown_role", Message: "unknown role " + r})
		case !actor.HasRole(r):
			fields = append(fields, csphub.FieldError{Field: "roles", Code: "role_not_held", Message: "you do not hold the role " + r})
		}
	}
	now := s.clock.Now()
	if !in.ExpiresAt.After(now) || in.ExpiresAt.Sub(now) > maxTokenLifetime {
		fields = append(fields, csphub.FieldError{Field: "expires_at", Code: "out_of_range", Message: "must be in the future and at most one year away"})
	}
	if len(fields) > 0 {
		return CreatedAPIToken{}, csphub.Invalid(fields...)
	}
	secret, hash, err := newSecret(APITokenPrefix)
	if err != nil {
		return CreatedAPIToken{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (CreatedAPIToken, error) {
		t := csphub.APIToken{ID: csphub.NewID(), OrgID: actor.OrgID, Name: name, Roles: roles, CreatedBy: actor.ID,
			CreatedAt: tx.Now(), ExpiresAt: csphub.Normalize(in.ExpiresAt)}
		if err := tx.InsertAPIToken(t, hash); err != nil {
			return CreatedAPIToken{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "api_token.create", ResourceType: "api_token", ResourceID: t.ID, After: t}); err != nil {
			return CreatedAPIToken{}, err
		}
		return CreatedAPIToken{APIToken: t, Secret: secret}, nil
	})
}

// APITokenPage is one page of an organization's tokens.
type APITokenPage struct {
	Items         []csphub.APIToken `json:"items"`
	NextPageToken string            `json:"next_page_token,omitempty"`
}

// ListAPITokens lists the actor's organization's tokens, oldest first.
func (s *Service) ListAPITokens(ctx context.Context, actor csphub.Actor, pageToken string, pageSize int) (APITokenPage, error) {
	if !canManageCredentials(actor) {
		return APITokenPage{}, csphub.Errorf(csphub.KindForbidden, "admin_required", "only a global admin or account admin can manage API tokens")
	}
	after, err := decodeKeyset(pageToken)
	if err != nil {
		return APITokenPage{}, err
	}
	return read(ctx, s, func(tx *store.Tx) (APITokenPage, error) {
		items, err := tx.APITokens(actor.OrgID, after, pageSize+1)
		if err != nil {
			return APITokenPage{}, err
		}
		p := APITokenPage{Items: items}
		if len(items) > pageSize {
			p.Items = items[:pageSize]
			last := p.Items[pageSize-1]
			p.NextPageToken = encodeKeyset(store.Keyset{At: last.CreatedAt, ID: last.ID})
		}
		return p, nil
	})
}

// RevokeAPIToken revokes a token of the actor's organization; it stops
// working on the next request.
func (s *Service) RevokeAPIToken(ctx context.Context, actor csphub.Actor, id string) error {
	if !canManageCredentials(actor) {
		return csphub.Errorf(csphub.KindForbidden, "admin_required", "only a global admin or account admin can manage API tokens")
	}
	if !csphub.ValidID(id) {
		return csphub.NotFound("api_token")
	}
	_, err := write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		before, err := tx.APIToken(actor.OrgID, id)
		if err != nil {
			return struct{}{}, err
		}
		if err := tx.RevokeAPIToken(actor.OrgID, id); err != nil {
			return struct{}{}, err
		}
		after, err := tx.APIToken(actor.OrgID, id)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.Audit(actor, csphub.AuditEntry{Action: "api_token.revoke", ResourceType: "api_token", ResourceID: id, Before: before, After: after})
	})
	return err
}

// TokenActor authenticates an API token: it must exist, be unrevoked and
// unexpired.
func (s *Service) TokenActor(ctx context.Context, secret string) (csphub.Actor, error) {
	hash := hashSecret(secret)
	type found struct {
		t    csphub.APIToken
		kind csphub.OrgKind
	}
	f, err := read(ctx, s, func(tx *store.Tx) (found, error) {
		t, kind, err := tx.APITokenByHash(hash)
		if err != nil {
			return found{}, err
		}
		// A token acts with at most its creator's roles of today: a creator
		// disabled, deleted or stripped of a role takes the token's power
		// down with them on the next request.
		creator, err := tx.User(t.OrgID, t.CreatedBy)
		if err != nil {
			return found{}, err
		}
		if creator.Status != csphub.UserActive {
			return found{}, csphub.NotFound("api_token")
		}
		t.Roles = slices.DeleteFunc(t.Roles, func(r string) bool { return !slices.Contains(creator.Roles, r) })
		if len(t.Roles) == 0 {
			return found{}, csphub.NotFound("api_token")
		}
		return found{t, kind}, nil
	})
	now := s.clock.Now()
	if err != nil || f.t.RevokedAt != nil || !f.t.ExpiresAt.After(now) {
		if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
			return csphub.Actor{}, err
		}
		return csphub.Actor{}, csphub.Errorf(csphub.KindUnauthenticated, "invalid_token", "the API token is not valid")
	}
	if f.t.LastUsedAt == nil || now.Sub(*f.t.LastUsedAt) >= sessionTouchResolution {
		if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.TouchAPIToken(f.t.OrgID, f.t.ID) }); err != nil {
			return csphub.Actor{}, err
		}
	}
	return csphub.Actor{Kind: csphub.ActorToken, ID: f.t.ID, OrgID: f.t.OrgID, OrgKind: f.kind, Roles: f.t.Roles, MFAPassed: true}, nil
}
