package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"csphub"
	"csphub/internal/i18n"
	"csphub/internal/service"
)

// Settings > Account settings: users and API tokens of the signed-in
// user's organization. The service decides who may do what; the pages
// only hide what a reader could not use anyway, and translate refusals.

const (
	defaultSettingsPageSize = 50
	maxTokenDays            = 365
	defaultTokenDays        = 90
)

// settingsRoles are the roles that open the settings pages: those that
// manage users and credentials in some kind of organization.
var settingsRoles = []string{csphub.RoleGlobalAdmin, csphub.RoleAccountAdmin, csphub.RoleOperatorAdmin}

// canManageSettings: a user (not a token, not through a delegated grant)
// holding an admin role of their organization's kind.
func (v *viewer) canManageSettings() bool {
	if v == nil || v.me.User == nil || v.actor.OnBehalfOf != "" {
		return false
	}
	kind := v.me.Organization.Kind
	return slices.ContainsFunc(settingsRoles, func(r string) bool { return csphub.ValidRole(kind, r) && v.actor.HasRole(r) })
}

// settingsGuard lets through a signed-in user past MFA who may manage
// settings; anyone else signed in gets 403.
func (h *Handler) settingsGuard(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v, ok := h.requireMFAPassed(w, r)
	if !ok {
		return nil, false
	}
	if !v.canManageSettings() {
		h.renderError(w, r, http.StatusForbidden)
		return nil, false
	}
	return v, true
}

func (h *Handler) settingsHome(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.settingsGuard(w, r); ok {
		redirect(w, r, "/settings/users")
	}
}

type roleOption struct {
	Value, Label string
	Checked      bool
}

func roleLabel(l *i18n.Localizer, role string) string {
	if key := "role." + role; l.Has(key) {
		return l.T(key)
	}
	return role
}

func roleLabels(l *i18n.Localizer, roles []string) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = roleLabel(l, r)
	}
	return strings.Join(names, ", ")
}

// roleOptions lists roles as checkboxes, those in checked ticked.
func roleOptions(l *i18n.Localizer, roles, checked []string) []roleOption {
	out := make([]roleOption, len(roles))
	for i, r := range roles {
		out[i] = roleOption{Value: r, Label: roleLabel(l, r), Checked: slices.Contains(checked, r)}
	}
	return out
}

func (h *Handler) languageTags() []string {
	var langs []string
	for _, tag := range h.i18n.Languages() {
		langs = append(langs, tag.String())
	}
	return langs
}

// refusal translates a service refusal the reader can act on into a
// message and a status; ok is false for anything else.
func refusal(l *i18n.Localizer, err error) (string, int, bool) {
	e := csphub.AsError(err)
	if e == nil {
		return "", 0, false
	}
	key := "settings.error." + e.Code
	if !l.Has(key) {
		return "", 0, false
	}
	status := http.StatusUnprocessableEntity
	switch e.Kind {
	case csphub.KindForbidden:
		status = http.StatusForbidden
	case csphub.KindConflict:
		status = http.StatusConflict
	case csphub.KindPreconditionFailed:
		status = http.StatusPreconditionFailed
	}
	return l.T(key), status, true
}

// lostAdmin: the reader no longer holds the roles the page needs (demoted
// or disabled since the page was opened).
func lostAdmin(err error) bool {
	e := csphub.AsError(err)
	return e != nil && (e.Code == "admin_required" || e.Code == "delegated_access_not_allowed")
}

// pageTokenOf reads the keyset token of a list's page from the query.
func pageTokenOf(r *http.Request) string {
	t := r.URL.Query().Get("page")
	if len(t) > 200 {
		return "\x00" // the service refuses it as any other bad token
	}
	return t
}

func doneOf(r *http.Request, allowed ...string) string {
	if d := r.URL.Query().Get("done"); slices.Contains(allowed, d) {
		return d
	}
	return ""
}

// --- users ---

type userRow struct {
	service.UserView
	RoleNames string
	URL       string
}

type usersPage struct {
	Users     []userRow
	PageToken string
	NextURL   string
	Form      formState
	Roles     []roleOption
	Languages []string
	Done      string
}

var inviteFields = []string{"email", "name", "lang", "roles"}

func (h *Handler) usersList(w http.ResponseWriter, r *http.Request) {
	v, ok := h.settingsGuard(w, r)
	if !ok {
		return
	}
	l := h.localizer(r)
	form := formState{Values: map[string]string{"lang": l.Lang()}}
	h.renderUsers(w, r, v, http.StatusOK, pageTokenOf(r), form, nil, doneOf(r, "invited", "updated", "deleted"))
}

func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, v *viewer, status int, pageToken string, form formState, checked []string, done string) {
	l := h.localizer(r)
	list, err := h.svc.ListUsers(r.Context(), v.actor, "", pageToken, h.settingsPageSize)
	if err != nil {
		h.settingsFail(w, r, err)
		return
	}
	page := usersPage{PageToken: pageToken, Form: form, Languages: h.languageTags(), Done: done,
		Roles: roleOptions(l, csphub.RolesOf(v.me.Organization.Kind), checked)}
	for _, u := range list.Items {
		page.Users = append(page.Users, userRow{UserView: u, RoleNames: roleLabels(l, u.Roles), URL: "/settings/users/" + url.PathEscape(u.ID)})
	}
	if list.NextPageToken != "" {
		page.NextURL = "/settings/users?page=" + url.QueryEscape(list.NextPageToken)
	}
	noStore(w)
	h.render(w, r, status, pageSettingsUsers, "settings", page)
}

// settingsFail answers an error no form can show.
func (h *Handler) settingsFail(w http.ResponseWriter, r *http.Request, err error) {
	if lostAdmin(err) {
		h.renderError(w, r, http.StatusForbidden)
		return
	}
	h.fail(w, r, err)
}

func (h *Handler) inviteUser(w http.ResponseWriter, r *http.Request) {
	v, ok := h.settingsGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	f := r.PostForm
	in := service.InviteUserInput{Email: strings.TrimSpace(f.Get("email")), Name: f.Get("name"), Lang: f.Get("lang"), Roles: f["roles"]}
	if _, err := h.svc.InviteUser(r.Context(), v.actor, in); err != nil {
		l := h.localizer(r)
		form := formState{Values: map[string]string{"email": in.Email, "name": in.Name, "lang": in.Lang}}
		status := http.StatusUnprocessableEntity
		e := csphub.AsError(err)
		switch {
		case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0:
			h.fieldErrors(r, l, &form, e.Fields, inviteFields)
		case e != nil && e.Code == "email_taken":
			form.fieldError("email", l.T("settings.error.email_taken"))
			status = http.StatusConflict
		default:
			msg, st, ok := refusal(l, err)
			if !ok {
				h.settingsFail(w, r, err)
				return
			}
			form.Problem, status = msg, st
		}
		h.renderUsers(w, r, v, status, "", form, in.Roles, "")
		return
	}
	redirect(w, r, "/settings/users?done=invited")
}

type userPage struct {
	User      service.UserView
	ETag      string
	Action    string
	Delete    string
	Form      formState
	Roles     []roleOption
	Languages []string
	Partner   bool // shows how partner roles relate to delegated admin
	IsSelf    bool
	Done      string
	Disabled  bool // the status the form shows
}

var userFields = []string{"name", "lang", "roles", "status"}

func (h *Handler) userEdit(w http.ResponseWriter, r *http.Request) {
	v, ok := h.settingsGuard(w, r)
	if !ok {
		return
	}
	u, err := h.svc.GetUser(r.Context(), v.actor, r.PathValue("id"))
	if err != nil {
		h.settingsFail(w, r, err)
		return
	}
	h.renderUser(w, r, v, http.StatusOK, u, service.UserETag(u), formOfUser(u), u.Roles, doneOf(r, "updated"))
}

func formOfUser(u service.UserView) formState {
	return formState{Values: map[string]string{"name": u.Name, "lang": u.Lang, "status": string(u.Status)}}
}

func (h *Handler) renderUser(w http.ResponseWriter, r *http.Request, v *viewer, status int, u service.UserView, etag string, form formState, roles []string, done string) {
	l := h.localizer(r)
	base := "/settings/users/" + url.PathEscape(u.ID)
	page := userPage{User: u, ETag: etag, Action: base, Delete: base + "/delete", Form: form,
		Roles: roleOptions(l, csphub.RolesOf(v.me.Organization.Kind), roles), Languages: h.languageTags(),
		Partner: v.me.Organization.Kind == csphub.OrgPartner, IsSelf: u.ID == v.actor.ID, Done: done,
		Disabled: form.Values["status"] == string(csphub.UserDisabled)}
	noStore(w)
	h.render(w, r, status, pageSettingsUser, "settings", page)
}

// userRefused shows the edit page again with why the change was refused.
// A stale ETag shows the user as they are now, with the new ETag, so that
// the reader makes the change again knowingly; any other refusal keeps
// what was typed.
func (h *Handler) userRefused(w http.ResponseWriter, r *http.Request, v *viewer, err error, typed *formState, roles []string, etag string) {
	l := h.localizer(r)
	e := csphub.AsError(err)
	if e != nil && e.Kind == csphub.KindNotFound {
		h.renderError(w, r, http.StatusNotFound)
		return
	}
	form := typed
	status := http.StatusUnprocessableEntity
	switch {
	case e != nil && e.Kind == csphub.KindInvalid && len(e.Fields) > 0 && typed != nil:
		h.fieldErrors(r, l, typed, e.Fields, userFields)
	default:
		msg, st, ok := refusal(l, err)
		if !ok {
			h.settingsFail(w, r, err)
			return
		}
		status = st
		if form == nil {
			form = &formState{}
		}
		form.Problem = msg
	}
	cur, gerr := h.svc.GetUser(r.Context(), v.actor, r.PathValue("id"))
	if gerr != nil {
		h.settingsFail(w, r, gerr)
		return
	}
	if e != nil && e.Kind == csphub.KindPreconditionFailed || typed == nil {
		fresh := formOfUser(cur)
		fresh.Problem, fresh.Errors, fresh.Summary = form.Problem, form.Errors, form.Summary
		form, roles, etag = &fresh, cur.Roles, service.UserETag(cur)
	}
	h.renderUser(w, r, v, status, cur, etag, *form, roles, "")
}

func (h *Handler) userUpdate(w http.ResponseWriter, r *http.Request) {
	v, ok := h.settingsGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	f := r.PostForm
	name, lang, status, roles := f.Get("name"), f.Get("lang"), f.Get("status"), f["roles"]
	if roles == nil {
		roles = []string{} // no box ticked: the user keeps no role
	}
	etag := f.Get("etag")
	id := r.PathValue("id")
	if _, err := h.svc.UpdateUser(r.Context(), v.actor, id, ifMatchOf(etag),
		service.UpdateUserInput{Name: &name, Lang: &lang, Roles: &roles, Status: &status}); err != nil {
		form := formState{Values: map[string]string{"name": name, "lang": lang, "status": status}}
		h.userRefused(w, r, v, err, &form, roles, etag)
		return
	}
	redirect(w, r, "/settings/users/"+url.PathEscape(id)+"?done=updated")
}

func (h *Handler) userDelete(w http.ResponseWriter, r *http.Request) {
	v, ok := h.settingsGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	if err := h.svc.DeleteUser(r.Context(), v.actor, r.PathValue("id"), ifMatchOf(r.PostForm.Get("etag"))); err != nil {
		h.userRefused(w, r, v, err, nil, nil, "")
		return
	}
	redirect(w, r, "/settings/users?done=deleted")
}

// ifMatchOf turns the form's ETag into an If-Match precondition. A form
// without one still sets a precondition no user matches, so that a
// change is never made blind.
func ifMatchOf(etag string) string {
	if strings.TrimSpace(etag) == "" || strings.Contains(etag, "*") {
		return `"missing"`
	}
	return etag
}

// --- API tokens ---

type tokenRow struct {
	csphub.APIToken
	RoleNames   string
	RevokeURL   string
	Expired     bool
	Revocable   bool
	HasLastUsed bool
}

type createdToken struct {
	Name   string
	Secret string
}

type tokensPage struct {
	Tokens    []tokenRow
	PageToken string
	NextURL   string
	Form      formState
	Roles     []roleOption
	MaxDays   int
	Created   *createdToken
	Done      string
}

// The page that shows a new secret cannot be fetched again.
func (p tokensPage) oneTime() bool { return p.Created != nil }

var tokenFields = []string{"token_name", "roles", "expires_days"}

func (h *Handler) tokensList(w http.ResponseWriter, r *http.Request) {
	v, ok := h.settingsGuard(w, r)
	if !ok {
		return
	}
	form := formState{Values: map[string]string{"expires_days": strconv.Itoa(defaultTokenDays)}}
	h.renderTokens(w, r, v, http.StatusOK, pageTokenOf(r), form, nil, nil, doneOf(r, "revoked"))
}

// heldRoles are the roles a token may be given: those of its creator.
func heldRoles(v *viewer) []string {
	return slices.DeleteFunc(csphub.RolesOf(v.me.Organization.Kind), func(r string) bool { return !v.actor.HasRole(r) })
}

func (h *Handler) renderTokens(w http.ResponseWriter, r *http.Request, v *viewer, status int, pageToken string, form formState, checked []string, created *createdToken, done string) {
	l := h.localizer(r)
	list, err := h.svc.ListAPITokens(r.Context(), v.actor, pageToken, h.settingsPageSize)
	if err != nil {
		h.settingsFail(w, r, err)
		return
	}
	now := h.clock.Now()
	page := tokensPage{PageToken: pageToken, Form: form, MaxDays: maxTokenDays, Created: created, Done: done,
		Roles: roleOptions(l, heldRoles(v), checked)}
	for _, t := range list.Items {
		expired := !t.ExpiresAt.After(now)
		page.Tokens = append(page.Tokens, tokenRow{APIToken: t, RoleNames: roleLabels(l, t.Roles),
			RevokeURL: "/settings/api-tokens/" + url.PathEscape(t.ID) + "/revoke",
			Expired:   expired, Revocable: t.RevokedAt == nil && !expired, HasLastUsed: t.LastUsedAt != nil})
	}
	if list.NextPageToken != "" {
		page.NextURL = "/settings/api-tokens?page=" + url.QueryEscape(list.NextPageToken)
	}
	noStore(w)
	h.render(w, r, status, pageSettingsTokens, "settings", page)
}

func (h *Handler) tokenCreate(w http.ResponseWriter, r *http.Request) {
	v, ok := h.settingsGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	name, daysText, roles := f.Get("token_name"), strings.TrimSpace(f.Get("expires_days")), f["roles"]
	form := formState{Values: map[string]string{"token_name": name, "expires_days": daysText}}
	days, err := strconv.Atoi(daysText)
	if err != nil || days < 1 || days > maxTokenDays {
		form.fieldError("expires_days", l.T("form.error.expires_days.out_of_range"))
	}
	var created service.CreatedAPIToken
	if form.Errors == nil {
		created, err = h.svc.CreateAPIToken(r.Context(), v.actor, service.CreateAPITokenInput{
			Name: name, Roles: roles, ExpiresAt: h.clock.Now().Add(time.Duration(days) * 24 * time.Hour)})
		if err != nil {
			e := csphub.AsError(err)
			if e == nil || e.Kind != csphub.KindInvalid || len(e.Fields) == 0 {
				h.settingsFail(w, r, err)
				return
			}
			// The service names the fields as the API does; the form's
			// own names keep their messages apart from the user forms'.
			fields := slices.Clone(e.Fields)
			for i := range fields {
				switch fields[i].Field {
				case "name":
					fields[i].Field = "token_name"
				case "expires_at":
					fields[i].Field = "expires_days"
				}
			}
			h.fieldErrors(r, l, &form, fields, tokenFields)
		}
	}
	if form.Errors != nil {
		form.sortSummary(tokenFields)
		h.renderTokens(w, r, v, http.StatusUnprocessableEntity, "", form, roles, nil, "")
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.renderTokens(w, r, v, http.StatusOK, "", formState{Values: map[string]string{"expires_days": strconv.Itoa(defaultTokenDays)}},
		nil, &createdToken{Name: created.Name, Secret: created.Secret}, "")
}

func (h *Handler) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	v, ok := h.settingsGuard(w, r)
	if !ok {
		return
	}
	if err := h.svc.RevokeAPIToken(r.Context(), v.actor, r.PathValue("id")); err != nil {
		h.settingsFail(w, r, err)
		return
	}
	redirect(w, r, "/settings/api-tokens?done=revoked")
}

// roleField is what the role checkboxes show.
type roleField struct {
	Roles []roleOption
	Error string
}

func (p usersPage) RoleField() roleField  { return roleField{p.Roles, p.Form.Errors["roles"]} }
func (p userPage) RoleField() roleField   { return roleField{p.Roles, p.Form.Errors["roles"]} }
func (p tokensPage) RoleField() roleField { return roleField{p.Roles, p.Form.Errors["roles"]} }
