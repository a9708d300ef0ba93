package scapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// walk follows a dotted path ("data.servers.0.state") through a decoded
// JSON document; numbers index arrays. An empty path is the document.
func walk(doc any, path string) (any, error) {
	if path == "" {
		return doc, nil
	}
	cur := doc
	for i, part := range strings.Split(path, ".") {
		at := strings.Join(strings.Split(path, ".")[:i+1], ".")
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[part]
			if !ok {
				return nil, fmt.Errorf("answer has no %q", at)
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(part)
			if err != nil || n < 0 || n >= len(v) {
				return nil, fmt.Errorf("answer has no %q (a list of %d)", at, len(v))
			}
			cur = v[n]
		default:
			return nil, fmt.Errorf("answer has no %q", at)
		}
	}
	return cur, nil
}

// lookup returns the scalar at path as a string: strings as they are,
// booleans as "true"/"false", numbers as written.
func lookup(doc any, path string) (string, error) {
	v, err := walk(doc, path)
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		return x.String(), nil
	case nil:
		return "", fmt.Errorf("%s is null", pathName(path))
	}
	return "", fmt.Errorf("%s is not a string, number or boolean", pathName(path))
}

func pathName(path string) string {
	if path == "" {
		return "the answer"
	}
	return strconv.Quote(path)
}
