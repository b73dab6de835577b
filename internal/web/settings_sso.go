package web

import (
	"net/http"
	"strings"

	"csphub"
	"csphub/internal/service"
)

// Settings > Single sign-on: the organization's OpenID Connect provider.
// Only its global admins manage it (the service's rule); the client secret
// is write-only, so no page ever holds it.

const (
	maxSSOIssuer = 2048
	maxSSOSecret = 1024
)

// canManageSSO: a settings reader who is a global admin of their own
// organization.
func (v *viewer) canManageSSO() bool {
	return v.canManageSettings() && v.actor.HasRole(csphub.RoleGlobalAdmin)
}

func (h *Handler) ssoGuard(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v, ok := h.settingsGuard(w, r)
	if !ok {
		return nil, false
	}
	if !v.canManageSSO() {
		h.renderError(w, r, http.StatusForbidden)
		return nil, false
	}
	return v, true
}

type ssoPage struct {
	Settings    service.SSOSettings
	Configured  bool
	RedirectURI string
	Form        formState
	Done        string
}

var ssoFields = []string{"issuer", "client_id", "client_secret", "allowed_domains"}

// ssoDomains reads the allowed domains as typed: one a line or separated
// by commas.
func ssoDomains(text string) []string {
	var out []string
	for _, d := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

func formOfSSO(s service.SSOSettings) formState {
	return formState{Values: map[string]string{"issuer": s.Issuer, "client_id": s.ClientID,
		"allowed_domains": strings.Join(s.AllowedDomains, "\n")}}
}

func (h *Handler) ssoForm(w http.ResponseWriter, r *http.Request) {
	v, ok := h.ssoGuard(w, r)
	if !ok {
		return
	}
	h.renderSSO(w, r, v, http.StatusOK, nil, doneOf(r, "saved", "disabled"))
}

// renderSSO shows the stored settings, with form (what was typed) in the
// fields when given, else the stored values.
func (h *Handler) renderSSO(w http.ResponseWriter, r *http.Request, v *viewer, status int, form *formState, done string) {
	cur, err := h.svc.GetSSO(r.Context(), v.actor)
	configured := err == nil
	if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
		h.ssoFail(w, r, err)
		return
	}
	if form == nil {
		f := formOfSSO(cur)
		form = &f
	}
	page := ssoPage{Settings: cur, Configured: configured, RedirectURI: h.svc.SSORedirectURI(), Form: *form, Done: done}
	noStore(w)
	h.render(w, r, status, pageSettingsSSO, "settings", page)
}

// ssoFail answers an error no form can show; a refusal means the reader
// is no longer a global admin.
func (h *Handler) ssoFail(w http.ResponseWriter, r *http.Request, err error) {
	if csphub.ErrorKind(err) == csphub.KindForbidden {
		h.renderError(w, r, http.StatusForbidden)
		return
	}
	h.settingsFail(w, r, err)
}

func (h *Handler) ssoSave(w http.ResponseWriter, r *http.Request) {
	v, ok := h.ssoGuard(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	l := h.localizer(r)
	f := r.PostForm
	in := service.ConfigureSSOInput{Issuer: strings.TrimSpace(f.Get("issuer")), ClientID: strings.TrimSpace(f.Get("client_id")),
		ClientSecret: f.Get("client_secret"), AllowedDomains: ssoDomains(f.Get("allowed_domains"))}
	// The secret typed is never put back into the form.
	form := formState{Values: map[string]string{"issuer": in.Issuer, "client_id": in.ClientID, "allowed_domains": f.Get("allowed_domains")}}
	// The API bounds these lengths in its schema; the form must too, so
	// that discovery is never tried with an absurd URL.
	if len(in.Issuer) > maxSSOIssuer {
		form.fieldError("issuer", l.T("form.error.issuer.invalid_issuer"))
	}
	if len(in.ClientSecret) > maxSSOSecret {
		form.fieldError("client_secret", l.T("form.error.client_secret.invalid_client_secret"))
	}
	if form.Errors == nil {
		_, err := h.svc.ConfigureSSO(r.Context(), v.actor, in)
		if err == nil {
			redirect(w, r, "/settings/sso?done=saved")
			return
		}
		e := csphub.AsError(err)
		if e == nil || e.Kind != csphub.KindInvalid || len(e.Fields) == 0 {
			h.ssoFail(w, r, err)
			return
		}
		h.fieldErrors(r, l, &form, e.Fields, ssoFields)
	}
	form.sortSummary(ssoFields)
	h.renderSSO(w, r, v, http.StatusUnprocessableEntity, &form, "")
}

func (h *Handler) ssoDisable(w http.ResponseWriter, r *http.Request) {
	v, ok := h.ssoGuard(w, r)
	if !ok {
		return
	}
	err := h.svc.DisableSSO(r.Context(), v.actor)
	if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
		h.ssoFail(w, r, err)
		return
	}
	// Nothing set up is as good as disabled.
	redirect(w, r, "/settings/sso?done=disabled")
}
