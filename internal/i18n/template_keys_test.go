package i18n

import (
	"testing"
	"text/template"
)

func TestTemplateCalls(t *testing.T) {
	src := `{{T "a.one"}}{{if .X}}{{T "a.two" "n" 1}}{{else}}{{range .Y}}{{printf "%s" (T "a.three")}}{{end}}{{end}}{{T .Dynamic}}{{with .Z}}{{template "x" (T "a.four")}}{{end}}`
	tmpl := template.Must(template.New("page").Funcs(template.FuncMap{"T": func(string, ...any) string { return "" }}).Parse(src + `{{define "x"}}{{.}}{{end}}`))
	var keys []string
	dynamic := 0
	for _, c := range TemplateCalls("T", tmpl.Tree) {
		if c.Key == "" {
			dynamic++
			if c.Where == "" {
				t.Error("dynamic call without a location")
			}
			continue
		}
		keys = append(keys, c.Key)
	}
	want := []string{"a.one", "a.two", "a.three", "a.four"}
	if len(keys) != len(want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Errorf("keys = %v, want %v", keys, want)
		}
	}
	if dynamic != 1 {
		t.Errorf("dynamic calls = %d, want 1", dynamic)
	}
}
