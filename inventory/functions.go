package inventory

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/osrun/osrun/inventory/secret"
)

// Functions returns the HCL functions of inventories and playbooks.
//
// env("NAME") and file("path") are the only ways to bring a secret in:
// their results carry secret.Mark, so decoders can insist on them and
// printing stays redacted. file paths are relative to baseDir, with ~
// expanded to the home directory. The rest are go-cty's standard library
// under the names Terraform users know.
func Functions(baseDir string) map[string]function.Function {
	fns := map[string]function.Function{

		// numbers
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"log":      stdlib.LogFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,

		// strings
		"chomp":         stdlib.ChompFunc,
		"format":        stdlib.FormatFunc,
		"formatlist":    stdlib.FormatListFunc,
		"indent":        stdlib.IndentFunc,
		"join":          stdlib.JoinFunc,
		"lower":         stdlib.LowerFunc,
		"regex":         stdlib.RegexFunc,
		"regexall":      stdlib.RegexAllFunc,
		"regex_replace": stdlib.RegexReplaceFunc,
		"replace":       stdlib.ReplaceFunc,
		"split":         stdlib.SplitFunc,
		"strlen":        stdlib.StrlenFunc,
		"strrev":        stdlib.ReverseFunc,
		"substr":        stdlib.SubstrFunc,
		"title":         stdlib.TitleFunc,
		"trim":          stdlib.TrimFunc,
		"trimprefix":    stdlib.TrimPrefixFunc,
		"trimspace":     stdlib.TrimSpaceFunc,
		"trimsuffix":    stdlib.TrimSuffixFunc,
		"upper":         stdlib.UpperFunc,

		// collections
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"keys":            stdlib.KeysFunc,
		"length":          stdlib.LengthFunc,
		"lookup":          stdlib.LookupFunc,
		"merge":           stdlib.MergeFunc,
		"range":           stdlib.RangeFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,

		// encoding and time
		"csvdecode":  stdlib.CSVDecodeFunc,
		"formatdate": stdlib.FormatDateFunc,
		"jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
		"timeadd":    stdlib.TimeAddFunc,

		// conversions
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber": stdlib.MakeToFunc(cty.Number),
		"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring": stdlib.MakeToFunc(cty.String),
	}
	for name, f := range fns {
		fns[name] = rememberingSecrets(f)
	}
	fns["env"] = envFunc()
	fns["file"] = fileFunc(baseDir)
	return fns
}

// rememberingSecrets wraps f so that a result derived from a secret is
// remembered by the scrubber as a secret of its own (secret.RememberMarked).
// The wrapper takes its arguments marked, so it can see that the result
// is; f itself strips and re-applies the marks as before.
func rememberingSecrets(f function.Function) function.Function {
	params := f.Params()
	for i := range params {
		params[i].AllowMarked = true
	}
	spec := &function.Spec{
		Description: f.Description(),
		Params:      params,
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, err := f.Call(args)
			if err == nil {
				secret.RememberMarked(v)
			}
			return v, err
		},
	}
	if vp := f.VarParam(); vp != nil {
		p := *vp
		p.AllowMarked = true
		spec.VarParam = &p
	}
	return function.New(spec)
}

func envFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Reads an environment variable as a secret.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			v, ok := os.LookupEnv(name)
			if !ok {
				return cty.NilVal, fmt.Errorf("environment variable %s is not set", name)
			}
			if v == "" {
				return cty.NilVal, fmt.Errorf("environment variable %s is empty", name)
			}
			return secret.MarkValue(cty.StringVal(v), fmt.Sprintf("env(%q)", name)), nil
		},
	})
}

// fileFunc reads a file as a secret. One trailing newline is dropped
// because secret files are usually written with echo or an editor, and a
// password with a newline in it never authenticates.
func fileFunc(baseDir string) function.Function {
	return function.New(&function.Spec{
		Description: "Reads a file, relative to the configuration's directory, as a secret.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			b, err := readSmallFile(expandPath(baseDir, p))
			if err != nil {
				return cty.NilVal, fmt.Errorf("read %s: %w", p, err)
			}
			s := string(b)
			s = strings.TrimSuffix(s, "\n")
			s = strings.TrimSuffix(s, "\r")
			return secret.MarkValue(cty.StringVal(s), fmt.Sprintf("file(%q)", p)), nil
		},
	})
}

// maxFileSize bounds file(): it reads secrets and small texts, and a
// device or a huge file must not hang or exhaust the loader.
const maxFileSize = 4 << 20

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("larger than %d MiB", maxFileSize>>20)
	}
	return b, nil
}

// unwrapPathError drops the path from an *os.PathError, which the caller
// already names in its own words.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// expandPath resolves a user-written path: ~ is the home directory and a
// relative path is relative to baseDir (the configuration file's folder),
// so an inventory works the same from any working directory.
func expandPath(baseDir, p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if p == "" || filepath.IsAbs(p) || baseDir == "" {
		return p
	}
	return filepath.Join(baseDir, p)
}
