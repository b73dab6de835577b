package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var markdownImage = regexp.MustCompile(`!\[[^\]]*\]\(([^)\s]+)\)`)

// TestDocsScreenshotsExist keeps docs/journeys.md and the journey test in
// step: every image the docs show exists, and every screenshot the test
// writes for the docs is shown, so none is taken for nothing or missing.
func TestDocsScreenshotsExist(t *testing.T) {
	docs := filepath.Join("..", "docs")
	md, err := os.ReadFile(filepath.Join(docs, "journeys.md"))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, m := range markdownImage.FindAllSubmatch(md, -1) {
		ref := string(m[1])
		shown[ref] = true
		if _, err := os.Stat(filepath.Join(docs, filepath.FromSlash(ref))); err != nil {
			t.Errorf("docs/journeys.md shows %s, which is missing: take the screenshots again (see the page's top)", ref)
		}
	}
	for name := range docScreenshots {
		if ref := "images/journey-" + name + ".png"; !shown[ref] {
			t.Errorf("the journey test takes %s for the docs, but docs/journeys.md does not show it", ref)
		}
	}
	if len(shown) == 0 {
		t.Error("docs/journeys.md shows no screenshot")
	}
}
