package mail

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	texttemplate "text/template"

	"csphub"
	"csphub/internal/store"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// templateSet is one message type's templates: the text set holds the
// subjects and plain-text bodies, the HTML set the HTML bodies, each joined
// with its layout.
type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templates is parsed once at start and only read afterwards; a template
// that does not parse, or lacks a language, stops the program at start
// rather than at the first email.
var templates = mustLoadTemplates(templateFiles)

func mustLoadTemplates(fsys fs.FS) map[string]templateSet {
	sets, err := loadTemplates(fsys)
	if err != nil {
		panic(err)
	}
	return sets
}

func loadTemplates(fsys fs.FS) (map[string]templateSet, error) {
	files, err := fs.Glob(fsys, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, f := range files {
		base := path.Base(f)
		name, isText := strings.CutSuffix(base, ".txt.tmpl")
		if !isText {
			var isHTML bool
			if name, isHTML = strings.CutSuffix(base, ".html.tmpl"); !isHTML {
				return nil, fmt.Errorf("mail template %s: name must end in .txt.tmpl or .html.tmpl", f)
			}
		}
		if name != "layout" {
			names[name] = true
		}
	}
	sets := map[string]templateSet{}
	for name := range names {
		txt, err := texttemplate.New(name).Option("missingkey=error").
			ParseFS(fsys, "templates/layout.txt.tmpl", "templates/"+name+".txt.tmpl")
		if err != nil {
			return nil, fmt.Errorf("mail template %s (text): %w", name, err)
		}
		html, err := htmltemplate.New(name).Option("missingkey=error").
			ParseFS(fsys, "templates/layout.html.tmpl", "templates/"+name+".html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("mail template %s (HTML): %w", name, err)
		}
		for _, lang := range Languages() {
			for _, part := range []string{"subject", "body", "layout"} {
				if txt.Lookup(string(lang)+"."+part) == nil {
					return nil, fmt.Errorf("mail template %s (text) does not define %q", name, string(lang)+"."+part)
				}
			}
			for _, part := range []string{"body", "layout"} {
				if html.Lookup(string(lang)+"."+part) == nil {
					return nil, fmt.Errorf("mail template %s (HTML) does not define %q", name, string(lang)+"."+part)
				}
			}
		}
		sets[name] = templateSet{text: txt, html: html}
	}
	return sets, nil
}

// view is what a layout renders; the message body templates see the
// message itself.
type view struct {
	Msg       Message
	Recipient Recipient
	Subject   string
}

// Render validates a message's recipient and renders its subject and
// bodies in the recipient's language. Values that would break a header are
// refused with an invalid-input error naming the field.
func Render(m Message) (store.Email, error) { return render(templates, m) }

func render(templates map[string]templateSet, m Message) (store.Email, error) {
	r := m.Recipient()
	if err := checkAddress("to", r.Address); err != nil {
		return store.Email{}, err
	}
	if err := checkHeader("to_name", r.Name); err != nil {
		return store.Email{}, err
	}
	lang := r.Lang
	if lang == "" {
		lang = English
	}
	if !slices.Contains(Languages(), lang) {
		return store.Email{}, csphub.Invalid(csphub.FieldError{Field: "lang", Code: "unsupported", Message: "must be en or fr"})
	}
	set, ok := templates[m.Template()]
	if !ok {
		return store.Email{}, fmt.Errorf("mail: no template %q", m.Template())
	}
	var subject, text, html strings.Builder
	if err := set.text.ExecuteTemplate(&subject, string(lang)+".subject", m); err != nil {
		return store.Email{}, fmt.Errorf("mail %s: subject: %w", m.Template(), err)
	}
	e := store.Email{
		To: r.Address, ToName: r.Name, Lang: string(lang), Template: m.Template(),
		Subject: strings.TrimSpace(subject.String()),
	}
	if err := checkHeader("subject", e.Subject); err != nil {
		return store.Email{}, err
	}
	if e.Subject == "" {
		return store.Email{}, fmt.Errorf("mail %s: empty subject", m.Template())
	}
	v := view{Msg: m, Recipient: r, Subject: e.Subject}
	if err := set.text.ExecuteTemplate(&text, string(lang)+".layout", v); err != nil {
		return store.Email{}, fmt.Errorf("mail %s: text body: %w", m.Template(), err)
	}
	if err := set.html.ExecuteTemplate(&html, string(lang)+".layout", v); err != nil {
		return store.Email{}, fmt.Errorf("mail %s: HTML body: %w", m.Template(), err)
	}
	e.Text, e.HTML = text.String(), html.String()
	return e, nil
}

// Enqueue renders a message and writes it to the outbox in the caller's
// transaction: it is sent if and only if the transaction commits.
func Enqueue(tx *store.Tx, orgID string, m Message) (store.OutboxRef, error) {
	e, err := Render(m)
	if err != nil {
		return store.OutboxRef{}, err
	}
	return tx.EnqueueEmail(orgID, e)
}
