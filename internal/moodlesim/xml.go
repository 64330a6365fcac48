package moodlesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
)

// Moodle's REST server answers XML unless moodlewsrestformat is "json" (anything else
// falls back to XML). enrolctl always asks for JSON; answering XML otherwise makes a
// client that forgets the parameter fail here as it would on a real site.

const xmlHeader = `<?xml version="1.0" encoding="UTF-8" ?>` + "\n"

// xmlResponse is webservice_rest_server::send_response in XML: v is the Go result,
// nil for functions that return nothing.
func xmlResponse(v any) []byte {
	var b strings.Builder
	b.WriteString(xmlHeader + "<RESPONSE>\n")
	if v != nil {
		raw, err := json.Marshal(v)
		if err != nil {
			panic(err) // only plain values are encoded
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := xmlize(&b, dec); err != nil {
			panic(err)
		}
	}
	b.WriteString("</RESPONSE>\n")
	return []byte(b.String())
}

// xmlize writes the next JSON value of dec as Moodle's xmlize_result does:
// objects are SINGLE with KEY children, lists MULTIPLE, scalars VALUE.
func xmlize(b *strings.Builder, dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			b.WriteString("<SINGLE>\n")
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				fmt.Fprintf(b, `<KEY name="%s">`, k)
				if err := xmlize(b, dec); err != nil {
					return err
				}
				b.WriteString("</KEY>\n")
			}
			b.WriteString("</SINGLE>\n")
		case '[':
			b.WriteString("<MULTIPLE>\n")
			for dec.More() {
				if err := xmlize(b, dec); err != nil {
					return err
				}
			}
			b.WriteString("</MULTIPLE>\n")
		}
		_, err := dec.Token() // the closing delimiter
		if err == io.EOF {
			return nil
		}
		return err
	case nil:
		b.WriteString(`<VALUE null="null"/>` + "\n")
	case bool:
		if t {
			b.WriteString("<VALUE>1</VALUE>\n")
		} else {
			b.WriteString("<VALUE>0</VALUE>\n")
		}
	case json.Number:
		b.WriteString("<VALUE>" + t.String() + "</VALUE>\n")
	case string:
		b.WriteString("<VALUE>" + xmlEscape(t) + "</VALUE>\n")
	}
	return nil
}

// xmlEscape is htmlspecialchars(ENT_COMPAT): & < > and double quotes.
func xmlEscape(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "&#39;", "'")
}

// xmlError is generate_error() in XML.
func xmlError(e *wsError) []byte {
	var b strings.Builder
	b.WriteString(xmlHeader)
	fmt.Fprintf(&b, "<EXCEPTION class=\"%s\">\n", e.Exception)
	b.WriteString("<ERRORCODE>" + xmlEscape(e.ErrorCode) + "</ERRORCODE>\n")
	b.WriteString("<MESSAGE>" + xmlEscape(e.Message) + "</MESSAGE>\n")
	if e.DebugInfo != "" {
		b.WriteString("<DEBUGINFO>" + xmlEscape(e.DebugInfo) + "</DEBUGINFO>\n")
	}
	b.WriteString("</EXCEPTION>\n")
	return []byte(b.String())
}
