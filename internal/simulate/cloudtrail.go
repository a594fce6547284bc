package simulate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ctEvent is one CloudTrail record. appendEvent writes its fields in the order
// CloudTrail does.
type ctEvent struct {
	EventVersion        string
	UserIdentity        *userIdentity
	EventTime           string
	EventSource         string
	EventName           string
	AWSRegion           string
	SourceIPAddress     string
	UserAgent           string
	ErrorCode           string // optional
	ErrorMessage        string // optional
	RequestParameters   obj    // nil is written as null
	ResponseElements    obj
	AdditionalEventData obj    // optional
	RequestID           string // optional (sign-in events have none)
	EventID             string
	ReadOnly            bool
	Resources           []ctResource // optional
	EventType           string
	ManagementEvent     bool
	RecipientAccountID  string
	EventCategory       string
	TLSDetails          *tlsDetails // optional
	ConsoleSession      string      // sessionCredentialFromConsole, optional

	t        int64    // event time, Unix seconds
	account  *account // the account whose trail records the event
	baseline bool     // context for a scenario, not evidence of its finding
}

type userIdentity struct {
	Type           string
	PrincipalID    string
	ARN            string
	AccountID      string
	AccessKeyID    string
	UserName       string
	SessionContext *sessionContext
	InvokedBy      string
}

type sessionContext struct {
	SessionIssuer   *sessionIssuer
	WebIDFederation bool // writes "webIdFederationData":{}
	Attributes      sessionAttributes
	EC2RoleDelivery string
}

type sessionIssuer struct {
	Type, PrincipalID, ARN, AccountID, UserName string
}

type sessionAttributes struct {
	CreationDate     string
	MFAAuthenticated string
}

type ctResource struct {
	AccountID, Type, ARN string
}

type tlsDetails struct {
	TLSVersion, CipherSuite, ClientProvidedHostHeader string
}

// obj is a JSON object with its keys in writing order; values are strings,
// booleans, ints, obj, []any, []string or nil.
type obj []kv

type kv struct {
	k string
	v any
}

// o builds an obj from alternating keys and values.
func o(pairs ...any) obj {
	out := make(obj, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, kv{pairs[i].(string), pairs[i+1]})
	}
	if out == nil {
		return obj{}
	}
	return out
}

// appendEvent appends ev as compact JSON, keys in CloudTrail's order. Written by
// hand rather than with encoding/json: CloudTrail is a tenth of the records but
// reflection made it a third of the run time.
func appendEvent(b []byte, ev *ctEvent) []byte {
	b = appendKey(b, "{", "eventVersion", ev.EventVersion)
	b = append(b, `,"userIdentity":`...)
	b = appendIdentity(b, ev.UserIdentity)
	b = appendKey(b, ",", "eventTime", ev.EventTime)
	b = appendKey(b, ",", "eventSource", ev.EventSource)
	b = appendKey(b, ",", "eventName", ev.EventName)
	b = appendKey(b, ",", "awsRegion", ev.AWSRegion)
	b = appendKey(b, ",", "sourceIPAddress", ev.SourceIPAddress)
	b = appendKey(b, ",", "userAgent", ev.UserAgent)
	if ev.ErrorCode != "" {
		b = appendKey(b, ",", "errorCode", ev.ErrorCode)
		b = appendKey(b, ",", "errorMessage", ev.ErrorMessage)
	}
	b = append(b, `,"requestParameters":`...)
	b = appendValue(b, ev.RequestParameters)
	b = append(b, `,"responseElements":`...)
	b = appendValue(b, ev.ResponseElements)
	if ev.AdditionalEventData != nil {
		b = append(b, `,"additionalEventData":`...)
		b = appendValue(b, ev.AdditionalEventData)
	}
	if ev.RequestID != "" {
		b = appendKey(b, ",", "requestID", ev.RequestID)
	}
	b = appendKey(b, ",", "eventID", ev.EventID)
	b = append(b, `,"readOnly":`...)
	b = strconv.AppendBool(b, ev.ReadOnly)
	if len(ev.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i, r := range ev.Resources {
			sep := "{"
			if i > 0 {
				sep = ",{"
			}
			b = appendKey(b, sep, "accountId", r.AccountID)
			b = appendKey(b, ",", "type", r.Type)
			b = appendKey(b, ",", "ARN", r.ARN)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendKey(b, ",", "eventType", ev.EventType)
	b = append(b, `,"managementEvent":`...)
	b = strconv.AppendBool(b, ev.ManagementEvent)
	b = appendKey(b, ",", "recipientAccountId", ev.RecipientAccountID)
	b = appendKey(b, ",", "eventCategory", ev.EventCategory)
	if t := ev.TLSDetails; t != nil {
		b = appendKey(b, `,"tlsDetails":{`, "tlsVersion", t.TLSVersion)
		b = appendKey(b, ",", "cipherSuite", t.CipherSuite)
		b = appendKey(b, ",", "clientProvidedHostHeader", t.ClientProvidedHostHeader)
		b = append(b, '}')
	}
	if ev.ConsoleSession != "" {
		b = appendKey(b, ",", "sessionCredentialFromConsole", ev.ConsoleSession)
	}
	return append(b, '}')
}

// appendKey appends sep, then "key":"value".
func appendKey(b []byte, sep, key, value string) []byte {
	b = append(b, sep...)
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":`...)
	return appendJSONString(b, value)
}

// appendOpt appends ,"key":"value" when value is not empty.
func appendOpt(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	return appendKey(b, ",", key, value)
}

func appendIdentity(b []byte, id *userIdentity) []byte {
	b = appendKey(b, "{", "type", id.Type)
	b = appendOpt(b, "principalId", id.PrincipalID)
	b = appendOpt(b, "arn", id.ARN)
	b = appendOpt(b, "accountId", id.AccountID)
	b = appendOpt(b, "accessKeyId", id.AccessKeyID)
	b = appendOpt(b, "userName", id.UserName)
	if sc := id.SessionContext; sc != nil {
		b = append(b, `,"sessionContext":{`...)
		sep := ""
		if si := sc.SessionIssuer; si != nil {
			b = appendKey(b, `"sessionIssuer":{`, "type", si.Type)
			b = appendKey(b, ",", "principalId", si.PrincipalID)
			b = appendKey(b, ",", "arn", si.ARN)
			b = appendKey(b, ",", "accountId", si.AccountID)
			b = appendKey(b, ",", "userName", si.UserName)
			b = append(b, '}')
			sep = ","
		}
		if sc.WebIDFederation {
			b = append(b, sep...)
			b = append(b, `"webIdFederationData":{}`...)
			sep = ","
		}
		b = appendKey(b, sep+`"attributes":{`, "creationDate", sc.Attributes.CreationDate)
		b = appendKey(b, ",", "mfaAuthenticated", sc.Attributes.MFAAuthenticated)
		b = append(b, '}')
		b = appendOpt(b, "ec2RoleDelivery", sc.EC2RoleDelivery)
		b = append(b, '}')
	}
	b = appendOpt(b, "invokedBy", id.InvokedBy)
	return append(b, '}')
}

// appendValue appends a JSON value built from obj, []any, []string and scalars.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case obj:
		if v == nil {
			return append(b, "null"...)
		}
		b = append(b, '{')
		for i, p := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p.k)
			b = append(b, ':')
			b = appendValue(b, p.v)
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, e)
		}
		return append(b, ']')
	case string:
		return appendJSONString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	}
	panic(fmt.Sprintf("BUG: CloudTrail value of type %T", v))
}

// ctEmit receives CloudTrail records; the generator does not reuse them.
type ctEmit func(*ctEvent)

// ctFactory builds events; its rng supplies ids.
type ctFactory struct {
	seed uint64
	r    *rng
}

// event returns an AwsApiCall management event with the common fields set.
func (f ctFactory) event(acc *account, t int64, reg, source, name string, readOnly bool, id *userIdentity, ip, ua string) *ctEvent {
	ev := &ctEvent{
		EventVersion:       eventVersion(source),
		UserIdentity:       id,
		EventTime:          string(appendTime(nil, t)),
		EventSource:        source,
		EventName:          name,
		AWSRegion:          reg,
		SourceIPAddress:    ip,
		UserAgent:          ua,
		RequestID:          f.r.uuid(),
		EventID:            f.r.uuid(),
		ReadOnly:           readOnly,
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: acc.id,
		EventCategory:      "Management",
		t:                  t,
		account:            acc,
	}
	if source == "s3.amazonaws.com" {
		ev.RequestID = strings.ToUpper(f.r.hexString(16))
	}
	if !strings.HasSuffix(ip, ".amazonaws.com") && ip != "AWS Internal" {
		host := strings.TrimSuffix(source, ".amazonaws.com") + "." + reg + ".amazonaws.com"
		switch source {
		case "iam.amazonaws.com":
			host = "iam.amazonaws.com"
		case "signin.amazonaws.com":
			host = "signin.aws.amazon.com"
		case "s3.amazonaws.com":
			host = "s3." + reg + ".amazonaws.com"
		}
		ev.TLSDetails = &tlsDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: host}
	}
	return ev
}

// eventVersion returns the eventVersion CloudTrail currently writes for a service.
func eventVersion(source string) string {
	switch source {
	case "sts.amazonaws.com", "signin.amazonaws.com":
		return "1.08"
	case "cloudtrail.amazonaws.com", "s3.amazonaws.com":
		return "1.10"
	}
	return "1.09"
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// userID is the identity of an IAM user calling with its long-term access key.
func userID(acc *account, u *iamUser) *userIdentity {
	return &userIdentity{Type: "IAMUser", PrincipalID: u.principalID, ARN: u.arn, AccountID: acc.id,
		AccessKeyID: u.accessKey, UserName: u.name}
}

// consoleUserID is the identity of an IAM user working in the console: a
// temporary ASIA key and MFA in the session context.
func consoleUserID(acc *account, u *iamUser, key string, created time.Time) *userIdentity {
	id := &userIdentity{Type: "IAMUser", PrincipalID: u.principalID, ARN: u.arn, AccountID: acc.id,
		AccessKeyID: key, UserName: u.name,
		SessionContext: &sessionContext{WebIDFederation: true,
			Attributes: sessionAttributes{CreationDate: isoTime(created), MFAAuthenticated: "true"}}}
	if u.root {
		id.Type, id.UserName = "Root", ""
	}
	return id
}

// roleSessionID is the identity of an assumed-role session.
func roleSessionID(acc *account, rl *iamRole, session, key string, created time.Time) *userIdentity {
	return &userIdentity{
		Type:        "AssumedRole",
		PrincipalID: rl.roleID + ":" + session,
		ARN:         "arn:aws:sts::" + acc.id + ":assumed-role/" + rl.name + "/" + session,
		AccountID:   acc.id,
		AccessKeyID: key,
		SessionContext: &sessionContext{
			SessionIssuer:   &sessionIssuer{Type: "Role", PrincipalID: rl.roleID, ARN: rl.arn, AccountID: acc.id, UserName: rl.name},
			WebIDFederation: true,
			Attributes:      sessionAttributes{CreationDate: isoTime(created), MFAAuthenticated: "false"},
		},
	}
}

// instanceID is the identity of an instance calling with the credentials EC2
// delivered to it: a role session named after the instance id, with
// ec2RoleDelivery "2.0" (IMDSv2).
func instanceRoleID(seed uint64, in *instance, t int64) (*userIdentity, instanceSession) {
	s := sessionFor(seed, in, time.Unix(t, 0))
	id := roleSessionID(in.vpc.account, in.profile, in.id, s.accessKey, s.created)
	id.SessionContext.EC2RoleDelivery = "2.0"
	return id, s
}

// serviceID is the identity of an AWS service acting on the account's behalf.
func serviceID(service string) *userIdentity {
	return &userIdentity{Type: "AWSService", InvokedBy: service}
}

// sessionToken returns a plausible STS session token.
func sessionToken(r *rng) string {
	return "IQoJb3JpZ2luX2VjE" + r.fromAlphabet(mixedAlnum+"+/", 340) + "="
}

// expiration formats a credential expiry the way STS responses in CloudTrail do.
func expiration(t time.Time) string { return t.UTC().Format("Jan 2, 2006, 3:04:05 PM") }
