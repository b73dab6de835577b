package store_test

import (
	"io/fs"
	"slices"
)

func fsReadDir(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}

func equal(a, b []string) bool { return slices.Equal(a, b) }
