package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium; CSPHUB_CHROMIUM points elsewhere.
const chromiumPath = "/usr/bin/chromium"

// browser is one headless Chromium for one test, with what the page wrote
// to its console collected for checks at the end.
type browser struct {
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newBrowser starts Chromium with a fresh profile. A missing Chromium fails
// the test under CI=true, where a skip would hide a broken setup, and skips
// it elsewhere.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath
	if p := os.Getenv("CSPHUB_CHROMIUM"); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium not found at %s (CI=true, so this fails instead of skipping): install Debian's chromium package", path)
		}
		t.Skipf("Chromium not found at %s: install Debian's chromium package (apt-get install chromium) or set CSPHUB_CHROMIUM; skipping the browser test", path)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	// Cleanups run last-in first-out: the browser is gone before t.TempDir
	// removes its profile.
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	b := &browser{ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium at %s: %v", path, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// do runs steps with a deadline, so that a page that never shows what we
// wait for fails the test instead of hanging it.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.failureScreenshot(t)
		t.Fatalf("%s: %v", what, err)
	}
}

// pageEval evaluates a JavaScript expression in the page.
func pageEval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func pageText(t *testing.T, b *browser, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// savePNG writes a screenshot of the page to file: the whole page, or the
// window as it is.
func (b *browser) savePNG(file string, wholePage bool) error {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	shot := chromedp.CaptureScreenshot()
	if wholePage {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, png, 0o644)
}

// screenshot saves a full-page PNG under $CSPHUB_ARTIFACTS (or a temporary
// directory), for people to look at; it checks nothing.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("CSPHUB_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	file := filepath.Join(dir, name+".png")
	if err := b.savePNG(file, true); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s", file)
}

// checkConsoleClean fails on any error the page logged: a CSP violation, a
// failed resource, an exception. Each page must run clean under its policy.
func (b *browser) checkConsoleClean(t *testing.T) {
	t.Helper()
	// Console messages arrive asynchronously; give the last ones a moment.
	time.Sleep(200 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
			t.Errorf("console %s (%s) at %s: %s", m.Type, m.Source, m.URL, m.Text)
		}
	}
}

// screenshotTo saves a PNG of the window as it is to file, for the docs.
func (b *browser) screenshotTo(t *testing.T, file string) {
	t.Helper()
	if err := b.savePNG(file, false); err != nil {
		t.Fatalf("screenshot %s: %v", file, err)
	}
}

// failureScreenshot keeps the page as it was when a step failed, named
// after the test, for whoever reads the failure.
func (b *browser) failureScreenshot(t *testing.T) {
	dir := os.Getenv("CSPHUB_ARTIFACTS")
	if dir == "" {
		return
	}
	file := filepath.Join(dir, "failure-"+strings.ReplaceAll(t.Name(), "/", "-")+".png")
	if err := b.savePNG(file, true); err != nil {
		t.Logf("no screenshot of the failure: %v", err)
		return
	}
	t.Logf("screenshot of the failure: %s", file)
}
