// Command gotemplate renders Go text/template strings with the Sprig functions, configured
// as Bitnami's controller configures them for spec.template.data (Sprig's generic function
// map without env, expandenv and getHostByName), so tests can compare gitops-guard's
// renderer with the real Go one.
//
// Input on stdin: a JSON array of {"template": string, "values": {name: base64}}.
// Output on stdout: a JSON array of {"output": base64} or {"error": string}.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

type testCase struct {
	Template string            `json:"template"`
	Values   map[string]string `json:"values"`
}

type result struct {
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

func render(funcs template.FuncMap, c testCase) result {
	data := map[string]string{}
	for name, encoded := range c.Values {
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			return result{Error: "bad test input: " + err.Error()}
		}
		data[name] = string(raw)
	}
	tmpl, err := template.New("item").Funcs(funcs).Parse(c.Template)
	if err != nil {
		return result{Error: err.Error()}
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, data); err != nil {
		return result{Error: err.Error()}
	}
	return result{Output: base64.StdEncoding.EncodeToString(out.Bytes())}
}

func main() {
	funcs := sprig.GenericFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	delete(funcs, "getHostByName")
	var cases []testCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		os.Stderr.WriteString("gotemplate: " + err.Error() + "\n")
		os.Exit(2)
	}
	results := make([]result, 0, len(cases))
	for _, c := range cases {
		results = append(results, render(funcs, c))
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		os.Exit(2)
	}
}
