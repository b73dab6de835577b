package service

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"csphub"
	cmail "csphub/internal/mail"
	"csphub/internal/password"
	"csphub/internal/store"
)

// User management (Settings > Account settings > User management).
//
// An invited user is created at once, with status active and no password:
// nobody can sign in as them until they follow the emailed link and choose
// one (invitation_pending shows it). The rules:
//   - only a global admin or account admin (operator_admin in the operator
//     organization) manages users, and never through a delegated admin
//     grant;
//   - roles must exist in the organization's kind; nobody grants a role
//     they do not hold, global_admin counting as holding every role (it is
//     "everything"); only a global admin grants or removes global_admin,
//     or changes or deletes a user who holds it;
//   - the organization keeps at least one active global admin who can sign
//     in (last_global_admin), decided with the tenant locked;
//   - nobody disables or deletes themselves; disabling or deleting ends the
//     user's sessions.
//
// Every write locks the tenant first and then reads the caller's roles
// again, so a caller demoted by a transaction that committed a moment ago
// cannot act on roles they no longer hold.

// invitationLifetime is how long an invitation link works.
const invitationLifetime = 7 * 24 * time.Hour

// UserView is a user as user management shows it.
type UserView struct {
	csphub.User
	InvitationPending bool `json:"invitation_pending" doc:"The user was invited and has not chosen a password yet; they cannot sign in until they do"`
}

func viewOf(u store.ManagedUser) UserView {
	return UserView{User: u.User, InvitationPending: !u.PasswordSet}
}

func viewOfRecord(u store.UserRecord) UserView {
	return UserView{User: u.User, InvitationPending: u.PasswordHash == ""}
}

// UserETag is the entity tag of a user's representation: it changes
// whenever anything the representation shows changes.
func UserETag(v UserView) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// etagMatches applies an If-Match header to the current entity tag: an
// absent header sets no precondition; "*" matches any existing user; weak
// tags never match (If-Match compares strongly).
func etagMatches(ifMatch, etag string) bool {
	if strings.TrimSpace(ifMatch) == "" {
		return true
	}
	for _, t := range strings.Split(ifMatch, ",") {
		if t = strings.TrimSpace(t); t == "*" || t == etag {
			return true
		}
	}
	return false
}

var (
	errUserAdminRequired = csphub.Errorf(csphub.KindForbidden, "admin_required", "only a global admin or account admin can manage users")
	errStaleUser         = csphub.Errorf(csphub.KindPreconditionFailed, "etag_mismatch", "the user changed since you read it; read it again and retry")
	errInvalidInvitation = csphub.Errorf(csphub.KindNotFound, "invitation_not_found", "this invitation link is not valid: it was used already, has expired, or was never issued")
)

// userAdminRoles are the roles that manage users in an organization of
// this kind.
func userAdminRoles(kind csphub.OrgKind) []string {
	return slices.DeleteFunc([]string{csphub.FirstAdminRole(kind), csphub.RoleAccountAdmin},
		func(r string) bool { return !csphub.ValidRole(kind, r) })
}

// topRole is the role the organization must always keep one active holder
// of, and that only its holders grant or take away.
func topRole(kind csphub.OrgKind) string { return csphub.FirstAdminRole(kind) }

// userAdmin checks that actor may manage users of its own organization, and
// returns that organization.
func userAdmin(tx *store.Tx, actor csphub.Actor, roles []string) (csphub.Organization, error) {
	if actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID {
		return csphub.Organization{}, csphub.Errorf(csphub.KindForbidden, "delegated_access_not_allowed",
			"users are managed by the organization's own admins, not through a delegated admin grant")
	}
	org, err := tx.Organization(actor.OrgID, actor.OrgID)
	if err != nil {
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return org, errUserAdminRequired
		}
		return org, err
	}
	if !slices.ContainsFunc(userAdminRoles(org.Kind), func(r string) bool { return slices.Contains(roles, r) }) {
		return org, errUserAdminRequired
	}
	return org, nil
}

// lockedAdmin locks the actor's organization for user management, then
// reads the actor's roles as they are now and checks them. It returns the
// organization, the roles, and how to name the actor in an invitation.
func lockedAdmin(tx *store.Tx, actor csphub.Actor) (csphub.Organization, []string, string, error) {
	if actor.OrgID == "" || !csphub.ValidID(actor.OrgID) {
		return csphub.Organization{}, nil, "", errUserAdminRequired
	}
	if err := tx.LockUserAdministration(actor.OrgID); err != nil {
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return csphub.Organization{}, nil, "", errUserAdminRequired
		}
		return csphub.Organization{}, nil, "", err
	}
	var roles []string
	var name string
	switch actor.Kind {
	case csphub.ActorUser:
		u, err := tx.User(actor.OrgID, actor.ID)
		if csphub.ErrorKind(err) == csphub.KindNotFound || err == nil && u.Status != csphub.UserActive {
			return csphub.Organization{}, nil, "", errUserAdminRequired
		}
		if err != nil {
			return csphub.Organization{}, nil, "", err
		}
		roles, name = u.Roles, u.Name
	case csphub.ActorToken:
		t, err := tx.APIToken(actor.OrgID, actor.ID)
		if csphub.ErrorKind(err) == csphub.KindNotFound || err == nil && (t.RevokedAt != nil || !t.ExpiresAt.After(tx.Now())) {
			return csphub.Organization{}, nil, "", errUserAdminRequired
		}
		if err != nil {
			return csphub.Organization{}, nil, "", err
		}
		roles = t.Roles
	default:
		return csphub.Organization{}, nil, "", errUserAdminRequired
	}
	org, err := userAdmin(tx, actor, roles)
	if err != nil {
		return org, nil, "", err
	}
	if name == "" {
		name = org.Name
	}
	return org, roles, name, nil
}

// checkRoles normalizes a role list (sorted, no duplicates) and checks that
// every role exists in organizations of this kind.
func checkRoles(kind csphub.OrgKind, roles []string) ([]string, error) {
	out := slices.Compact(slices.Sorted(slices.Values(roles)))
	var fields []csphub.FieldError
	for _, r := range out {
		if !csphub.ValidRole(kind, r) {
			fields = append(fields, csphub.FieldError{Field: "roles", Code: "unknown_role",
				Message: "there is no role " + r + " in this organization; roles are " + strings.Join(csphub.RolesOf(kind), ", ")})
		}
	}
	if len(fields) > 0 {
		return nil, csphub.Invalid(fields...)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// checkGrant applies the granting rules to a change of roles from before to
// after, made by a caller holding held. The top role is "everything" in its
// organization, so its holders grant every role; anyone else grants only
// roles they hold themselves.
func checkGrant(kind csphub.OrgKind, held, before, after []string) error {
	top := topRole(kind)
	if slices.Contains(held, top) {
		return nil
	}
	if slices.Contains(before, top) != slices.Contains(after, top) {
		return csphub.Errorf(csphub.KindForbidden, "global_admin_required", "only a %s can grant or remove the %s role", top, top)
	}
	for _, r := range after {
		if !slices.Contains(before, r) && !slices.Contains(held, r) {
			return csphub.Errorf(csphub.KindForbidden, "role_not_held", "you cannot grant the role %s: you do not hold it", r)
		}
	}
	return nil
}

// countsAsAdmin reports whether a user is one of the active admins the
// organization must keep: holding the top role, active, able to sign in.
func countsAsAdmin(kind csphub.OrgKind, roles []string, status csphub.UserStatus, passwordSet bool) bool {
	return slices.Contains(roles, topRole(kind)) && status == csphub.UserActive && passwordSet
}

// keepOtherAdmin refuses a change that would leave the organization with no
// active admin besides userID. The admins' rows are locked, and the tenant
// lock taken first means no other user-management transaction of this
// organization runs meanwhile.
func keepOtherAdmin(tx *store.Tx, org csphub.Organization, userID string) error {
	ids, err := tx.ActiveAdmins(org.ID, topRole(org.Kind))
	if err != nil {
		return err
	}
	if slices.ContainsFunc(ids, func(id string) bool { return id != userID }) {
		return nil
	}
	return csphub.Conflict("last_global_admin", "the organization must keep at least one active "+topRole(org.Kind)+
		"; grant the role to another user first")
}

func checkUserName(field, name string) *csphub.FieldError {
	if name == "" || utf8.RuneCountInString(name) > 200 || strings.ContainsAny(name, "\r\n\x00") {
		return &csphub.FieldError{Field: field, Code: "invalid_name", Message: "must be 1 to 200 characters on one line"}
	}
	return nil
}

func checkLang(lang string) *csphub.FieldError {
	if lang != "en" && lang != "fr" {
		return &csphub.FieldError{Field: "lang", Code: "unsupported_language", Message: "must be en or fr"}
	}
	return nil
}

// UserPage is one page of an organization's users.
type UserPage struct {
	Items         []UserView `json:"items"`
	NextPageToken string     `json:"next_page_token,omitempty"`
}

// ListUsers lists the users of the actor's organization, oldest first; q
// keeps those whose email or name starts with it.
func (s *Service) ListUsers(ctx context.Context, actor csphub.Actor, q, pageToken string, pageSize int) (UserPage, error) {
	after, err := decodeKeyset(pageToken)
	if err != nil {
		return UserPage{}, err
	}
	if pageSize <= 0 || pageSize > 500 {
		pageSize = 50
	}
	q = strings.TrimSpace(q)
	return read(ctx, s, func(tx *store.Tx) (UserPage, error) {
		if _, err := userAdmin(tx, actor, actor.Roles); err != nil {
			return UserPage{}, err
		}
		users, err := tx.ManagedUsers(actor.OrgID, q, after, pageSize+1)
		if err != nil {
			return UserPage{}, err
		}
		p := UserPage{Items: make([]UserView, 0, len(users))}
		for _, u := range users[:min(len(users), pageSize)] {
			p.Items = append(p.Items, viewOf(u))
		}
		if len(users) > pageSize {
			last := p.Items[pageSize-1]
			p.NextPageToken = encodeKeyset(store.Keyset{At: last.CreatedAt, ID: last.ID})
		}
		return p, nil
	})
}

// GetUser reads one user of the actor's organization.
func (s *Service) GetUser(ctx context.Context, actor csphub.Actor, id string) (UserView, error) {
	if !csphub.ValidID(id) {
		return UserView{}, csphub.NotFound("user")
	}
	return read(ctx, s, func(tx *store.Tx) (UserView, error) {
		if _, err := userAdmin(tx, actor, actor.Roles); err != nil {
			return UserView{}, err
		}
		u, err := tx.User(actor.OrgID, id)
		if err != nil {
			return UserView{}, err
		}
		return viewOfRecord(u), nil
	})
}

// InviteUserInput invites a person to the caller's organization.
type InviteUserInput struct {
	Email string   `json:"email" maxLength:"254" doc:"Work email of the person; the invitation is sent there"`
	Name  string   `json:"name" minLength:"1" maxLength:"200" doc:"Full name"`
	Lang  string   `json:"lang,omitempty" enum:"en,fr" doc:"Language of the user's pages and emails (default en)"`
	Roles []string `json:"roles" maxItems:"20" doc:"Roles of the user in the organization; at most those the inviter holds"`
}

// InvitedUser is the new user and when their invitation expires.
type InvitedUser struct {
	UserView
	InvitationExpiresAt time.Time `json:"invitation_expires_at" doc:"The emailed link stops working at this time"`
}

// invitationAudit is what the audit trail keeps of an invitation: never its
// token or the token's hash.
type invitationAudit struct {
	User         UserView  `json:"user"`
	InvitationID string    `json:"invitation_id"`
	ExpiresAt    time.Time `json:"invitation_expires_at"`
}

// InviteUser creates a user with no password and emails them, through the
// outbox and in the same transaction, a single-use link to choose one.
func (s *Service) InviteUser(ctx context.Context, actor csphub.Actor, in InviteUserInput) (InvitedUser, error) {
	var fields []csphub.FieldError
	email, fe := checkEmail("email", in.Email)
	if fe != nil {
		fields = append(fields, *fe)
	}
	name := strings.TrimSpace(in.Name)
	if fe := checkUserName("name", name); fe != nil {
		fields = append(fields, *fe)
	}
	lang := in.Lang
	if lang == "" {
		lang = "en"
	}
	if fe := checkLang(lang); fe != nil {
		fields = append(fields, *fe)
	}
	if len(fields) > 0 {
		return InvitedUser{}, csphub.Invalid(fields...)
	}
	token, hash, err := newSecret("")
	if err != nil {
		return InvitedUser{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (InvitedUser, error) {
		org, held, inviter, err := lockedAdmin(tx, actor)
		if err != nil {
			return InvitedUser{}, err
		}
		roles, err := checkRoles(org.Kind, in.Roles)
		if err != nil {
			return InvitedUser{}, err
		}
		if err := checkGrant(org.Kind, held, nil, roles); err != nil {
			return InvitedUser{}, err
		}
		u := store.UserRecord{User: csphub.User{ID: csphub.NewID(), OrgID: org.ID, Email: email, Name: name, Lang: lang,
			Status: csphub.UserActive, Roles: roles, CreatedAt: tx.Now()}, OrgKind: org.Kind}
		if err := tx.InsertUser(u); err != nil {
			return InvitedUser{}, err
		}
		inv := store.UserInvitation{ID: csphub.NewID(), TokenHash: hash, OrgID: org.ID, UserID: u.ID, Email: email,
			InvitedBy: actor.ID, CreatedAt: tx.Now(), ExpiresAt: tx.Now().Add(invitationLifetime)}
		if err := tx.InsertUserInvitation(inv); err != nil {
			return InvitedUser{}, err
		}
		if _, err := cmail.Enqueue(tx, org.ID, cmail.UserInvitation{
			To:           cmail.Recipient{Address: email, Name: name, Lang: cmail.Lang(lang)},
			Organization: org.Name, InvitedBy: inviter,
			Link: s.opts.BaseURL + "/user-invitations/" + token, ExpiresAt: inv.ExpiresAt,
		}); err != nil {
			return InvitedUser{}, err
		}
		view := viewOfRecord(u)
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "user.invite", ResourceType: "user", ResourceID: u.ID,
			After: invitationAudit{User: view, InvitationID: inv.ID, ExpiresAt: inv.ExpiresAt}}); err != nil {
			return InvitedUser{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "user.invited", Subject: u.ID, Data: view}); err != nil {
			return InvitedUser{}, err
		}
		return InvitedUser{UserView: view, InvitationExpiresAt: inv.ExpiresAt}, nil
	})
}

// UpdateUserInput changes a user; absent fields stay as they are.
type UpdateUserInput struct {
	Name   *string   `json:"name,omitempty" minLength:"1" maxLength:"200" doc:"Full name"`
	Lang   *string   `json:"lang,omitempty" enum:"en,fr" doc:"Language of the user's pages and emails"`
	Roles  *[]string `json:"roles,omitempty" maxItems:"20" doc:"The user's roles, replacing the current ones"`
	Status *string   `json:"status,omitempty" enum:"active,disabled" doc:"disabled: the user cannot sign in, and their sessions end"`
}

// UpdateUser changes a user of the actor's organization. ifMatch is the
// request's If-Match header: when given, it must name the user's current
// entity tag.
func (s *Service) UpdateUser(ctx context.Context, actor csphub.Actor, id, ifMatch string, in UpdateUserInput) (UserView, error) {
	if !csphub.ValidID(id) {
		return UserView{}, csphub.NotFound("user")
	}
	var fields []csphub.FieldError
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		in.Name = &n
		if fe := checkUserName("name", n); fe != nil {
			fields = append(fields, *fe)
		}
	}
	if in.Lang != nil {
		if fe := checkLang(*in.Lang); fe != nil {
			fields = append(fields, *fe)
		}
	}
	if in.Status != nil && *in.Status != string(csphub.UserActive) && *in.Status != string(csphub.UserDisabled) {
		fields = append(fields, csphub.FieldError{Field: "status", Code: "invalid_status", Message: "must be active or disabled"})
	}
	if len(fields) > 0 {
		return UserView{}, csphub.Invalid(fields...)
	}
	return write(ctx, s, func(tx *store.Tx) (UserView, error) {
		org, held, _, err := lockedAdmin(tx, actor)
		if err != nil {
			return UserView{}, err
		}
		cur, err := tx.UserForUpdate(org.ID, id)
		if err != nil {
			return UserView{}, err
		}
		before := viewOfRecord(cur)
		if !etagMatches(ifMatch, UserETag(before)) {
			return UserView{}, errStaleUser
		}
		after := before
		after.Roles = slices.Clone(before.Roles)
		if in.Name != nil {
			after.Name = *in.Name
		}
		if in.Lang != nil {
			after.Lang = *in.Lang
		}
		if in.Status != nil {
			after.Status = csphub.UserStatus(*in.Status)
		}
		if in.Roles != nil {
			if after.Roles, err = checkRoles(org.Kind, *in.Roles); err != nil {
				return UserView{}, err
			}
		}
		if UserETag(after) == UserETag(before) {
			return before, nil // nothing changes, so nothing is written or recorded
		}
		top := topRole(org.Kind)
		if slices.Contains(before.Roles, top) && !slices.Contains(held, top) {
			return UserView{}, csphub.Errorf(csphub.KindForbidden, "global_admin_required", "only a %s can change a user who holds the %s role", top, top)
		}
		if err := checkGrant(org.Kind, held, before.Roles, after.Roles); err != nil {
			return UserView{}, err
		}
		disabling := before.Status == csphub.UserActive && after.Status == csphub.UserDisabled
		if disabling && actor.Kind == csphub.ActorUser && actor.ID == id {
			return UserView{}, csphub.Errorf(csphub.KindUnprocessable, "cannot_disable_self", "you cannot disable yourself; ask another admin")
		}
		if countsAsAdmin(org.Kind, before.Roles, before.Status, !before.InvitationPending) &&
			!countsAsAdmin(org.Kind, after.Roles, after.Status, !after.InvitationPending) {
			if err := keepOtherAdmin(tx, org, id); err != nil {
				return UserView{}, err
			}
		}
		if err := tx.UpdateManagedUser(org.ID, id, after.Name, after.Lang, after.Status); err != nil {
			return UserView{}, err
		}
		if !slices.Equal(before.Roles, after.Roles) {
			if err := tx.ReplaceUserRoles(org.ID, id, after.Roles); err != nil {
				return UserView{}, err
			}
		}
		if disabling {
			if _, err := tx.EndUserSessions(org.ID, id); err != nil {
				return UserView{}, err
			}
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "user.update", ResourceType: "user", ResourceID: id, Before: before, After: after}); err != nil {
			return UserView{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "user.updated", Subject: id, Data: after}); err != nil {
			return UserView{}, err
		}
		return after, nil
	})
}

// DeleteUser removes a user of the actor's organization; their sessions
// end with them. ifMatch, when given, must name the user's current entity
// tag.
func (s *Service) DeleteUser(ctx context.Context, actor csphub.Actor, id, ifMatch string) error {
	if !csphub.ValidID(id) {
		return csphub.NotFound("user")
	}
	_, err := write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		org, held, _, err := lockedAdmin(tx, actor)
		if err != nil {
			return struct{}{}, err
		}
		cur, err := tx.UserForUpdate(org.ID, id)
		if err != nil {
			return struct{}{}, err
		}
		before := viewOfRecord(cur)
		if !etagMatches(ifMatch, UserETag(before)) {
			return struct{}{}, errStaleUser
		}
		if actor.Kind == csphub.ActorUser && actor.ID == id {
			return struct{}{}, csphub.Errorf(csphub.KindUnprocessable, "cannot_delete_self", "you cannot delete yourself; ask another admin")
		}
		top := topRole(org.Kind)
		if slices.Contains(before.Roles, top) && !slices.Contains(held, top) {
			return struct{}{}, csphub.Errorf(csphub.KindForbidden, "global_admin_required", "only a %s can delete a user who holds the %s role", top, top)
		}
		if countsAsAdmin(org.Kind, before.Roles, before.Status, !before.InvitationPending) {
			if err := keepOtherAdmin(tx, org, id); err != nil {
				return struct{}{}, err
			}
		}
		if _, err := tx.EndUserSessions(org.ID, id); err != nil {
			return struct{}{}, err
		}
		if err := tx.DeleteManagedUser(org.ID, id); err != nil {
			return struct{}{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "user.delete", ResourceType: "user", ResourceID: id, Before: before}); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.Emit(actor, csphub.EventEntry{Type: "user.deleted", Subject: id,
			Data: map[string]string{"id": id, "email": before.Email}})
	})
	return err
}

// AcceptUserInvitationInput is what the invited person chooses.
type AcceptUserInvitationInput struct {
	Name     string `json:"name,omitempty" maxLength:"200" doc:"Full name, if the inviter's spelling needs correcting"`
	Password string `json:"password" maxLength:"1024" doc:"At least 8 characters; long passphrases welcome"`
}

// AcceptUserInvitation sets an invited user's password with the token of
// their invitation link. The token works once, before it expires, for the
// organization, user and email it was issued for; any other token gets the
// same answer, whatever the reason. It signs nobody in, so it never
// bypasses MFA.
func (s *Service) AcceptUserInvitation(ctx context.Context, token string, in AcceptUserInvitationInput) (UserView, error) {
	name := strings.TrimSpace(in.Name)
	if name != "" {
		if fe := checkUserName("name", name); fe != nil {
			return UserView{}, csphub.Invalid(*fe)
		}
	}
	if token == "" || len(token) > 100 {
		return UserView{}, errInvalidInvitation
	}
	hash := hashSecret(token)
	return write(ctx, s, func(tx *store.Tx) (UserView, error) {
		// Locks in the order every user-management write takes them: the
		// organization, then the invitation, then the user.
		inv, err := tx.UserInvitationByHash(hash, false)
		if err == nil {
			err = tx.LockUserAdministration(inv.OrgID)
		}
		if err == nil {
			inv, err = tx.UserInvitationByHash(hash, true)
		}
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return UserView{}, errInvalidInvitation
		}
		if err != nil {
			return UserView{}, err
		}
		if inv.UsedAt != nil || !inv.ExpiresAt.After(tx.Now()) {
			return UserView{}, errInvalidInvitation
		}
		u, err := tx.UserForUpdate(inv.OrgID, inv.UserID)
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return UserView{}, errInvalidInvitation
		}
		if err != nil {
			return UserView{}, err
		}
		// The link is bound to the user as invited: same organization (the
		// lookup above), same email, still active, no password chosen since.
		if u.Email != inv.Email || u.Status != csphub.UserActive || u.PasswordHash != "" {
			return UserView{}, errInvalidInvitation
		}
		org, err := tx.Organization(u.OrgID, u.OrgID)
		if err != nil {
			return UserView{}, err
		}
		// A refused password leaves the link unused, to try another one.
		if err := password.Check(in.Password, u.Email, org.Name, org.Domain); err != nil {
			return UserView{}, err
		}
		ok, err := tx.UseUserInvitation(hash)
		if err != nil {
			return UserView{}, err
		}
		if !ok {
			return UserView{}, errInvalidInvitation
		}
		// Hashed here, after the link is claimed, so that only the one
		// redemption that wins pays for argon2id: replaying a link costs
		// the server nothing.
		pw, err := password.Hash(in.Password)
		if err != nil {
			return UserView{}, err
		}
		if err := tx.SetInvitedUserPassword(u.OrgID, u.ID, pw, name); err != nil {
			return UserView{}, err
		}
		before := viewOfRecord(u)
		after := before
		after.InvitationPending = false
		if name != "" {
			after.Name = name
		}
		actor := csphub.Actor{Kind: csphub.ActorUser, ID: u.ID, OrgID: u.OrgID, OrgKind: u.OrgKind, RequestID: csphub.RequestID(ctx)}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "user.invitation_accept", ResourceType: "user", ResourceID: u.ID, Before: before, After: after}); err != nil {
			return UserView{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "user.updated", Subject: u.ID, Data: after}); err != nil {
			return UserView{}, err
		}
		return after, nil
	})
}
