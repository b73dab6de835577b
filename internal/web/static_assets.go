package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFiles embed.FS

const staticPrefix = "/static/"

// asset is one embedded static file under its content-hashed name, which
// changes whenever the content does, so browsers may cache it forever.
type asset struct {
	hashedName  string
	contentType string
	etag        string
	body        []byte
}

type assetSet struct {
	byName   map[string]*asset // "app.css"
	byHashed map[string]*asset // "app.3f2a….css"
}

func loadAssets() (*assetSet, error) {
	set := &assetSet{byName: map[string]*asset{}, byHashed: map[string]*asset{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:8])
		ext := path.Ext(name)
		a := &asset{
			hashedName:  strings.TrimSuffix(name, ext) + "." + hash + ext,
			contentType: mime.TypeByExtension(ext),
			etag:        `"` + hash + `"`,
			body:        body,
		}
		if a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
		set.byName[name] = a
		set.byHashed[a.hashedName] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static assets: %w", err)
	}
	return set, nil
}

// url gives templates the hashed address of a static file; an unknown name
// fails the render, so a typo cannot ship as a broken link.
func (s *assetSet) url(name string) (string, error) {
	a, ok := s.byName[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	return staticPrefix + a.hashedName, nil
}

// static serves hashed names only: an old or unhashed URL is a 404, never
// stale content under an immutable cache header.
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets.byHashed[strings.TrimPrefix(r.URL.Path, staticPrefix)]
	if !ok {
		setPageHeaders(w.Header())
		h.notFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("ETag", a.etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, a.hashedName, time.Time{}, bytes.NewReader(a.body))
}
