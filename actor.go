package csphub

import "context"

// Actor is who performs a use case: a user or an API token of an
// organization, possibly acting inside another organization through a
// delegated admin grant, or the system itself (workers, bootstrap, CLI).
type Actor struct {
	Kind       ActorKind
	ID         string // user, token id; empty for the system
	OrgID      string // the organization the actor belongs to
	OnBehalfOf string // the organization acted in, when different from OrgID
	OrgKind    OrgKind
	Roles      []string
	// MFAPassed: the session passed multi-factor authentication (API tokens
	// count as passed: they are created by users who did).
	MFAPassed bool
	RequestID string
}

// ActorKind tells users, API tokens and the system apart in audit records.
type ActorKind string

const (
	ActorUser   ActorKind = "user"
	ActorToken  ActorKind = "api_token"
	ActorSystem ActorKind = "system"
)

// System returns the actor for work csphub does by itself.
func System(requestID string) Actor {
	return Actor{Kind: ActorSystem, ID: "system", RequestID: requestID}
}

// TenantID is the organization the actor is acting in.
func (a Actor) TenantID() string {
	if a.OnBehalfOf != "" {
		return a.OnBehalfOf
	}
	return a.OrgID
}

// HasRole reports whether the actor holds role.
func (a Actor) HasRole(role string) bool {
	for _, r := range a.Roles {
		if r == role {
			return true
		}
	}
	return false
}

type requestIDKey struct{}

// WithRequestID stores the request id in ctx so that audit records and logs
// written deep inside a use case carry it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id stored in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
