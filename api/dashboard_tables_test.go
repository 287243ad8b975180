package main

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// dashboardTables reads every data table of a dashboard page, by its data-chart
// name: rows of cells (th and td), header rows included, whitespace trimmed. It
// reads the page as a person's browser would show the tables, through the
// standard library's lenient HTML mode of encoding/xml.
func dashboardTables(t *testing.T, page string) map[string][][]string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(page))
	dec.Strict, dec.AutoClose, dec.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	tables := map[string][][]string{}
	var table string
	var row []string
	var cell *strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "table":
				for _, a := range el.Attr {
					if a.Name.Local == "data-chart" {
						table = a.Value
						require.NotContains(t, tables, table, "data-chart names are unique")
						tables[table] = [][]string{}
					}
				}
			case "tr":
				row = nil
			case "th", "td":
				cell = &strings.Builder{}
			}
		case xml.CharData:
			if cell != nil {
				cell.Write(el)
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "th", "td":
				row = append(row, strings.TrimSpace(cell.String()))
				cell = nil
			case "tr":
				if table != "" {
					tables[table] = append(tables[table], row)
				}
			case "table":
				table = ""
			}
		}
	}
	return tables
}

// cellsByRow maps each body row's first cell to its other cells (the header row,
// if any, first).
func cellsByRow(rows [][]string) map[string][]string {
	out := map[string][]string{}
	for _, r := range rows {
		if len(r) > 0 {
			out[r[0]] = r[1:]
		}
	}
	return out
}

// parsePercent reads "65.0%" (and "65.0% of 20 cases opened") as 0.65.
func parsePercent(t *testing.T, s string) float64 {
	t.Helper()
	head, _, _ := strings.Cut(s, "%")
	f, err := strconv.ParseFloat(head, 64)
	require.NoError(t, err, "a percentage: %q", s)
	return f / 100
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "a count: %q", s)
	return n
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, "a number: %q", s)
	return f
}

// parseDashboardDuration reads a printed duration ("7h", "1d18h36m").
func parseDashboardDuration(t *testing.T, s string) tierflow.Duration {
	t.Helper()
	d, err := tierflow.ParseDuration(s)
	require.NoError(t, err, "a duration: %q", s)
	return tierflow.Duration{Duration: d}
}
