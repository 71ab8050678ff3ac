// Package rulecsv reads and writes a shop's credit rules as CSV, the file
// merchants export, edit in a spreadsheet and import again (core.PlanRuleImport
// checks and compares it). The columns are core.RuleColumns; a file from
// a German spreadsheet (semicolons, decimal commas) is read as well.
package rulecsv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/creditbridge/creditbridge/core"
)

// Write writes rules with a header row, comma-separated, values with a
// decimal point. A cell that a spreadsheet would run as a formula (=, +,
// -, @ first) is prefixed with a quote.
func Write(w io.Writer, rules []core.Rule) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(core.RuleColumns); err != nil {
		return err
	}
	for _, r := range rules {
		value := r.Value.String()
		if r.Mode == core.ModeExclude {
			value = ""
		}
		rec := []string{string(r.Target), r.TargetID, r.Title, r.Beneficiary, string(r.Mode), value}
		for i, c := range rec[:4] {
			rec[i] = safeCell(c)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Read parses a rules file. The first row names the columns (any order,
// case-insensitive; target and mode are required, unknown columns are
// ignored); the separator is a comma or a semicolon, whichever the header
// uses. A UTF-8 byte order mark is skipped. Errors of the file as a whole
// (no header, a row that cannot be read, too many rows) are EINVALID with
// the line; errors of single fields are left to core.ParseRuleRow.
func Read(r io.Reader) ([]core.RuleRow, error) {
	br := bufio.NewReader(io.LimitReader(r, 16<<20))
	head, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	head = bytes.TrimPrefix(head, []byte("\ufeff"))
	if bytes.HasPrefix(mustPeek(br, 3), []byte("\ufeff")) {
		_, _ = br.Discard(3)
	}
	if !utf8.Valid(head) && len(head) < 4096 {
		return nil, core.Errorf(core.EINVALID, "the file is not UTF-8 text (save it as CSV UTF-8)")
	}
	firstLine, _, _ := bytes.Cut(head, []byte("\n"))
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	if bytes.Count(firstLine, []byte(";")) > bytes.Count(firstLine, []byte(",")) {
		cr.Comma = ';'
	}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, core.Errorf(core.EINVALID, "the file is empty: the first line must name the columns %s", strings.Join(core.RuleColumns, ", "))
	}
	if err != nil {
		return nil, core.Errorf(core.EINVALID, "line 1: %s", csvError(err))
	}
	cols := map[int]string{}
	known := map[string]bool{}
	for _, c := range core.RuleColumns {
		known[c] = true
	}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if known[h] {
			cols[i] = h
			delete(known, h)
		}
	}
	for _, need := range []string{"target", "mode"} {
		if known[need] {
			return nil, core.Errorf(core.EINVALID, "line 1 must name the columns %s (missing: %s)", strings.Join(core.RuleColumns, ", "), need)
		}
	}
	var rows []core.RuleRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, core.Errorf(core.EINVALID, "%s", csvError(err))
		}
		line, _ := cr.FieldPos(0)
		blank := true
		vals := map[string]string{}
		for i, v := range rec {
			if c, ok := cols[i]; ok {
				v = strings.TrimSpace(v)
				if c != "value" {
					v = strings.TrimPrefix(v, "'") // what Write added against formulas
				}
				vals[c] = v
				if v != "" {
					blank = false
				}
			}
		}
		if blank {
			continue
		}
		if len(rows) == core.MaxImportRows {
			return nil, core.Errorf(core.EINVALID, "a file has at most %d rules", core.MaxImportRows)
		}
		rows = append(rows, core.RuleRow{Line: line, Values: vals})
	}
	return rows, nil
}

func mustPeek(br *bufio.Reader, n int) []byte {
	b, _ := br.Peek(n)
	return b
}

func csvError(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %v", pe.Line, pe.Err)
	}
	return err.Error()
}
