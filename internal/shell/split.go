package shell

import (
	"fmt"
	"strings"
)

// Split splits a line typed by a user into the words sh would make of a
// simple command's arguments, without expanding anything: blanks (space,
// tab, newline) separate words, '…' quotes everything up to the next ',
// "…" quotes with a backslash escaping only " \ $ and `, and a backslash
// elsewhere escapes the next character. $, `, globs and ~ stay as typed:
// the words are sent to the device quoted (Join), so what the user typed
// is what the program gets. An open quote is an error that says where it
// starts (column in bytes, from 1).
func Split(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	for i := 0; i < len(line); {
		if c := line[i]; c == ' ' || c == '\t' || c == '\n' {
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
			i++
			continue
		}
		n, err := wordPart(line, i, &word)
		if err != nil {
			return nil, err
		}
		i += n
		inWord = true
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// wordPart appends to word what the part of a word at line[i] means, and
// returns how many bytes of line it took: a quoted string, an escaped
// character, or one plain byte.
func wordPart(line string, i int, word *strings.Builder) (int, error) {
	switch line[i] {
	case '\'':
		end := strings.IndexByte(line[i+1:], '\'')
		if end < 0 {
			return 0, fmt.Errorf("unterminated ' at column %d", i+1)
		}
		word.WriteString(line[i+1 : i+1+end])
		return end + 2, nil
	case '"':
		return doubleQuoted(line, i, word)
	case '\\':
		if i+1 >= len(line) {
			return 0, fmt.Errorf("\\ at the end of the line escapes nothing")
		}
		word.WriteByte(line[i+1])
		return 2, nil
	}
	word.WriteByte(line[i])
	return 1, nil
}

// doubleQuoted reads the "…" string starting at line[start].
func doubleQuoted(line string, start int, word *strings.Builder) (int, error) {
	for i := start + 1; i < len(line); i++ {
		switch c := line[i]; {
		case c == '"':
			return i - start + 1, nil
		case c == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0:
			i++
			word.WriteByte(line[i])
		default:
			word.WriteByte(c)
		}
	}
	return 0, fmt.Errorf("unterminated \" at column %d", start+1)
}
