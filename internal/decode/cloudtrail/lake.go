package cloudtrail

import (
	"bytes"
	"encoding/json"
	"strings"
)

// appendLakeRow appends to dst the event a CloudTrail Lake query-result row stands
// for. GetQueryResults returns each row as an array of one-member objects,
// [{"eventID":"…"},{"eventName":"…"},…], every value a string. A row with an
// eventJson column (event data stores that keep the original event) is that event.
// Otherwise the row becomes one object of its columns; the userIdentity column,
// which Lake renders as "{type=IAMUser, principalid=…, sessioncontext={…}}", is
// turned back into an object with CloudTrail's key names so that userIdentity.*
// fields work. Other struct columns stay strings.
func appendLakeRow(dst, row []byte) ([]byte, error) {
	var cells []map[string]json.RawMessage
	if err := json.Unmarshal(row, &cells); err != nil {
		return dst, recErr(ReasonNotEvent, "query result row is not an array of objects: %v", err)
	}
	for _, cell := range cells {
		if v, ok := cell["eventJson"]; ok {
			var s string
			if json.Unmarshal(v, &s) == nil && strings.HasPrefix(strings.TrimSpace(s), "{") {
				return append(dst, s...), nil
			}
		}
	}
	dst = append(dst, '{')
	first := true
	for _, cell := range cells {
		for k, v := range cell {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			key, _ := json.Marshal(k)
			dst = append(dst, key...)
			dst = append(dst, ':')
			if k == "userIdentity" {
				var s string
				if json.Unmarshal(v, &s) == nil && strings.HasPrefix(s, "{") && !json.Valid([]byte(s)) {
					dst = appendLakeStruct(dst, s, identityKeys)
					continue
				}
			}
			dst = append(dst, bytes.TrimSpace(v)...)
		}
	}
	return append(dst, '}'), nil
}

// identityKeys maps the lower-case member names of Lake's struct rendering to
// CloudTrail's.
var identityKeys = map[string]string{
	"type": "type", "principalid": "principalId", "arn": "arn", "accountid": "accountId",
	"accesskeyid": "accessKeyId", "username": "userName", "invokedby": "invokedBy",
	"sessioncontext": "sessionContext", "attributes": "attributes", "creationdate": "creationDate",
	"mfaauthenticated": "mfaAuthenticated", "sessionissuer": "sessionIssuer",
	"webidfederationdata": "webIdFederationData", "sourceidentity": "sourceIdentity",
	"ec2roledelivery": "ec2RoleDelivery", "ec2issuedinvpc": "ec2IssuedInVpc",
	"identityprovider": "identityProvider", "credentialid": "credentialId",
	"onbehalfof": "onBehalfOf", "userid": "userId", "identitystorearn": "identityStoreArn",
}

// appendLakeStruct appends s, a struct rendered as "{k=v, k={…}, k=null}", as a JSON
// object. Values are strings; null becomes JSON null; nested structs recurse.
func appendLakeStruct(dst []byte, s string, keys map[string]string) []byte {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		v, _ := json.Marshal(s)
		return append(dst, v...)
	}
	body := s[1 : len(s)-1]
	dst = append(dst, '{')
	first := true
	for _, part := range splitTop(body) {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if name, ok := keys[strings.ToLower(k)]; ok {
			k = name
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		key, _ := json.Marshal(k)
		dst = append(dst, key...)
		dst = append(dst, ':')
		switch {
		case v == "null":
			dst = append(dst, "null"...)
		case strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}"):
			dst = appendLakeStruct(dst, v, keys)
		default:
			q, _ := json.Marshal(v)
			dst = append(dst, q...)
		}
	}
	return append(dst, '}')
}

// splitTop splits "a=1, b={c=2, d=3}, e=x" at the commas outside braces and
// brackets.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}
