package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

// userAdmins may reach user management; the use cases narrow this to the
// roles that manage users in the caller's kind of organization.
var userAdmins = Access{Roles: []string{csphub.RoleGlobalAdmin, csphub.RoleAccountAdmin, csphub.RoleOperatorAdmin}}

// userRoutes registers user management (Settings > Account settings > User
// management) and the public acceptance of an invitation.
func (a *API) userRoutes() {
	register(a, huma.Operation{
		OperationID: "listUsers", Method: http.MethodGet, Path: "/api/v1/users",
		Summary:     "List your organization's users",
		Description: "Oldest first. `q` keeps the users whose email or name starts with it (case-insensitive). Global admins and account admins (operator admins in the operator organization) only.",
		Tags:        []string{"users"},
	}, a.listUsers)
	register(a, huma.Operation{
		OperationID: "inviteUser", Method: http.MethodPost, Path: "/api/v1/users",
		Summary: "Invite a user to your organization",
		Description: "Creates the user with status `active` and no password (`invitation_pending: true`), and emails a single-use link, valid 7 days, to choose one; " +
			"nobody can sign in as the user before that. You can grant only roles you hold; only a global admin grants `global_admin`.",
		Tags:          []string{"users"},
		DefaultStatus: http.StatusCreated,
	}, a.inviteUser)
	register(a, huma.Operation{
		OperationID: "getUser", Method: http.MethodGet, Path: "/api/v1/users/{id}",
		Summary:     "Read one user of your organization",
		Description: "The ETag header is the user's entity tag, for If-Match on PATCH and DELETE.",
		Tags:        []string{"users"},
	}, a.getUser)
	register(a, huma.Operation{
		OperationID: "updateUser", Method: http.MethodPatch, Path: "/api/v1/users/{id}",
		Summary: "Change a user's name, language, roles or status",
		Description: "Absent fields stay as they are; `roles` replaces the user's roles. With If-Match, a user changed since it was read answers 412. " +
			"Disabling ends the user's sessions at once. The organization keeps at least one active global admin (409 `last_global_admin`); nobody disables themselves.",
		Tags: []string{"users"},
	}, a.updateUser)
	register(a, huma.Operation{
		OperationID: "deleteUser", Method: http.MethodDelete, Path: "/api/v1/users/{id}",
		Summary:       "Delete a user of your organization; their sessions end",
		Description:   "Nobody deletes themselves, and the last active global admin cannot be deleted (409 `last_global_admin`). If-Match is honoured when sent.",
		Tags:          []string{"users"},
		DefaultStatus: http.StatusNoContent,
	}, a.deleteUser)
	register(a, huma.Operation{
		OperationID: "acceptUserInvitation", Method: http.MethodPost, Path: "/api/v1/user-invitations/{token}/accept",
		Summary: "Accept an invitation: choose your password with the emailed link's token",
		Description: "The token works once and expires 7 days after the invitation. Unknown, used and expired tokens get the same answer (404 `invitation_not_found`). " +
			"Accepting does not sign in: sign in afterwards (and set up MFA where required).",
		Tags: []string{"users"},
	}, a.acceptUserInvitation)
}

type listUsersInput struct {
	Q         string `query:"q" maxLength:"254" doc:"Prefix of the email or name"`
	PageSize  int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	PageToken string `query:"page_token" maxLength:"200"`
}

type listUsersOutput struct{ Body service.UserPage }

func (a *API) listUsers(ctx context.Context, in *listUsersInput) (*listUsersOutput, error) {
	p, err := a.svc.ListUsers(ctx, actorFrom(ctx), in.Q, in.PageToken, in.PageSize)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &listUsersOutput{Body: p}, nil
}

type inviteUserInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.InviteUserInput
}

type inviteUserOutput struct {
	ETag string `header:"ETag"`
	Body service.InvitedUser
}

func (a *API) inviteUser(ctx context.Context, in *inviteUserInput) (*inviteUserOutput, error) {
	u, err := a.svc.InviteUser(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &inviteUserOutput{ETag: service.UserETag(u.UserView), Body: u}, nil
}

type userIDInput struct {
	ID string `path:"id" maxLength:"36"`
}

type userOutput struct {
	ETag string `header:"ETag"`
	Body service.UserView
}

func (a *API) getUser(ctx context.Context, in *userIDInput) (*userOutput, error) {
	u, err := a.svc.GetUser(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &userOutput{ETag: service.UserETag(u), Body: u}, nil
}

type updateUserInput struct {
	ID      string `path:"id" maxLength:"36"`
	IfMatch string `header:"If-Match" maxLength:"1000" doc:"The ETag read with the user: a user changed since answers 412"`
	Body    service.UpdateUserInput
}

func (a *API) updateUser(ctx context.Context, in *updateUserInput) (*userOutput, error) {
	u, err := a.svc.UpdateUser(ctx, actorFrom(ctx), in.ID, in.IfMatch, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &userOutput{ETag: service.UserETag(u), Body: u}, nil
}

type deleteUserInput struct {
	ID      string `path:"id" maxLength:"36"`
	IfMatch string `header:"If-Match" maxLength:"1000" doc:"The ETag read with the user: a user changed since answers 412"`
}

func (a *API) deleteUser(ctx context.Context, in *deleteUserInput) (*struct{}, error) {
	if err := a.svc.DeleteUser(ctx, actorFrom(ctx), in.ID, in.IfMatch); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}

type acceptUserInvitationInput struct {
	Token string `path:"token" maxLength:"100"`
	Body  service.AcceptUserInvitationInput
}

type acceptUserInvitationOutput struct{ Body service.UserView }

func (a *API) acceptUserInvitation(ctx context.Context, in *acceptUserInvitationInput) (*acceptUserInvitationOutput, error) {
	u, err := a.svc.AcceptUserInvitation(ctx, in.Token, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &acceptUserInvitationOutput{Body: u}, nil
}
