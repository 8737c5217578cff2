// Package sarif holds the subset of SARIF 2.1.0 that code-scanning tools read, shared by
// `spartan audit` and `spartan scan`.
package sarif

import (
	"encoding/json"
	"io"
)

// Log is a SARIF document.
type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

// Run is one tool's results.
type Run struct {
	Tool    Tool     `json:"tool"`
	Results []Result `json:"results"`
}

// Tool describes the producer.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver is the tool and its rules.
type Driver struct {
	Name           string `json:"name"`
	Version        string `json:"version,omitempty"`
	InformationURI string `json:"informationUri"`
	Rules          []Rule `json:"rules"`
}

// Text is SARIF's message object.
type Text struct {
	Text string `json:"text"`
}

// Rule is one check or one vulnerability.
type Rule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name,omitempty"`
	ShortDescription     Text              `json:"shortDescription"`
	FullDescription      *Text             `json:"fullDescription,omitempty"`
	Help                 *Text             `json:"help,omitempty"`
	HelpURI              string            `json:"helpUri,omitempty"`
	DefaultConfiguration map[string]string `json:"defaultConfiguration,omitempty"`
	Properties           map[string]any    `json:"properties,omitempty"`
}

// Result is one finding.
type Result struct {
	RuleID     string         `json:"ruleId"`
	RuleIndex  int            `json:"ruleIndex"`
	Level      string         `json:"level"`
	Message    Text           `json:"message"`
	Locations  []Location     `json:"locations,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Location points at the file (or config field) a finding is about.
type Location struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
	} `json:"physicalLocation"`
}

// At is a Location for uri.
func At(uri string) Location {
	var l Location
	l.PhysicalLocation.ArtifactLocation.URI = uri
	return l
}

// New is a log with one run of the named tool.
func New(driver Driver, results []Result) Log {
	if results == nil {
		results = []Result{}
	}
	return Log{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []Run{{Tool: Tool{Driver: driver}, Results: results}},
	}
}

// Write encodes the log, indented, without HTML escaping (messages hold '<' and '&').
func (l Log) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(l)
}
