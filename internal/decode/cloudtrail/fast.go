package cloudtrail

import (
	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/jsonscan"
)

// The fast path. CloudTrail writes its events in one shape: the members vigil
// reads are strings (readOnly and managementEvent booleans), userIdentity and
// its sessionContext objects, no envelope around the event. fastParse reads
// that shape in one pass with a jsonscan.Cursor, checking and skipping the
// members it does not read (requestParameters, responseElements, resources…)
// as strictly as encoding/json would, and taking repeated values (names,
// regions, ARNs, user agents) from interners. encoding/json reads each event
// twice (a validity check, then the decoding, by reflection) and allocates
// every string: the fast path takes a fraction of that.
//
// It gives up — and the event goes through encoding/json, errors and all —
// on anything else: an envelope (EventBridge's detail, lookup-events'
// CloudTrailEvent, CloudTrail Lake's eventData and eventJson), an escape in a
// value it keeps, a type other than the expected one, a key that matches a
// known one only in letter case. FuzzFastParse checks that whenever it
// accepts an event, encoding/json reads it the same way.

// fieldInterners are the per-field tables of a parser's fast path.
type fieldInterners struct {
	version, source, name, typ, category, region, sourceIP, userAgent, errorCode, account, vpce, flag decode.Interner
	userType, principal, arn, userAccount, accessKey, userName, invokedBy                             decode.Interner
	issuerType, issuerARN, issuerName, roleDelivery                                                   decode.Interner
}

// The members of each object the fast path reads, for jsonscan.FoldsTo.
var (
	eventNames = []string{"eventVersion", "eventTime", "eventSource", "eventName", "eventType", "eventCategory",
		"eventID", "awsRegion", "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "readOnly",
		"recipientAccountId", "requestID", "managementEvent", "vpcEndpointId", "userIdentity", "@timestamp",
		"detail-type", "detail", "CloudTrailEvent", "eventData", "eventJson"}
	identityNames = []string{"type", "principalId", "arn", "accountId", "accessKeyId", "userName", "invokedBy", "sessionContext"}
	sessionNames  = []string{"attributes", "sessionIssuer", "ec2RoleDelivery"}
	attrNames     = []string{"mfaAuthenticated"}
	issuerNames   = []string{"type", "arn", "userName"}
)

// fastParse fills w (reset by the caller) from raw, valid UTF-8 no deeper
// than the configured depth, or returns false when raw is not a plain event;
// w is then garbage and the caller starts over.
func (p *parser) fastParse(raw []byte, w *wireEvent) bool {
	c := jsonscan.Cursor{B: raw}
	in := &p.intern
	ok := c.Object(func(key []byte) bool {
		switch string(key) {
		case "eventVersion":
			return c.StrOrNull(&w.EventVersion, &in.version)
		case "eventTime":
			return c.ViewOrNull(&w.EventTime)
		case "eventSource":
			return c.StrOrNull(&w.EventSource, &in.source)
		case "eventName":
			return c.StrOrNull(&w.EventName, &in.name)
		case "eventType":
			return c.StrOrNull(&w.EventType, &in.typ)
		case "eventCategory":
			return c.StrOrNull(&w.EventCategory, &in.category)
		case "eventID":
			return c.StrOrNull(&w.EventID, nil)
		case "awsRegion":
			return c.StrOrNull(&w.AWSRegion, &in.region)
		case "sourceIPAddress":
			return c.StrOrNull(&w.SourceIPAddress, &in.sourceIP)
		case "userAgent":
			return c.StrOrNull(&w.UserAgent, &in.userAgent)
		case "errorCode":
			return c.StrOrNull(&w.ErrorCode, &in.errorCode)
		case "errorMessage":
			return c.StrOrNull(&w.ErrorMessage, nil)
		case "readOnly":
			return fastBool(&c, &w.ReadOnly, &in.flag)
		case "recipientAccountId":
			return c.StrOrNull(&w.RecipientAccountID, &in.account)
		case "requestID":
			return c.StrOrNull(&w.RequestID, nil)
		case "managementEvent":
			return fastBool(&c, &w.ManagementEvent, &in.flag)
		case "vpcEndpointId":
			return c.StrOrNull(&w.VPCEndpointID, &in.vpce)
		case "@timestamp":
			return c.ViewOrNull(&w.Timestamp)
		case "userIdentity":
			return objectOrNull(&c, func() bool { return p.fastIdentity(&c, &w.UserIdentity) })
		}
		return !jsonscan.FoldsTo(key, eventNames...) && c.Skip()
	})
	return ok && c.End()
}

// fastIdentity reads userIdentity's members.
func (p *parser) fastIdentity(c *jsonscan.Cursor, u *identity) bool {
	in := &p.intern
	return c.Object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return c.StrOrNull(&u.Type, &in.userType)
		case "principalId":
			return c.StrOrNull(&u.PrincipalID, &in.principal)
		case "arn":
			return c.StrOrNull(&u.ARN, &in.arn)
		case "accountId":
			return c.StrOrNull(&u.AccountID, &in.userAccount)
		case "accessKeyId":
			return c.StrOrNull(&u.AccessKeyID, &in.accessKey)
		case "userName":
			return c.StrOrNull(&u.UserName, &in.userName)
		case "invokedBy":
			return c.StrOrNull(&u.InvokedBy, &in.invokedBy)
		case "sessionContext":
			sc := &u.SessionContext
			return objectOrNull(c, func() bool {
				return c.Object(func(key []byte) bool {
					switch string(key) {
					case "attributes":
						return objectOrNull(c, func() bool {
							return c.Object(func(key []byte) bool {
								if string(key) == "mfaAuthenticated" {
									return fastBool(c, &sc.Attributes.MFAAuthenticated, &in.flag)
								}
								return !jsonscan.FoldsTo(key, attrNames...) && c.Skip()
							})
						})
					case "sessionIssuer":
						si := &sc.SessionIssuer
						return objectOrNull(c, func() bool {
							return c.Object(func(key []byte) bool {
								switch string(key) {
								case "type":
									return c.StrOrNull(&si.Type, &in.issuerType)
								case "arn":
									return c.StrOrNull(&si.ARN, &in.issuerARN)
								case "userName":
									return c.StrOrNull(&si.UserName, &in.issuerName)
								}
								return !jsonscan.FoldsTo(key, issuerNames...) && c.Skip()
							})
						})
					case "ec2RoleDelivery":
						return c.StrOrNull(&sc.EC2RoleDelivery, &in.roleDelivery)
					}
					return !jsonscan.FoldsTo(key, sessionNames...) && c.Skip()
				})
			})
		}
		return !jsonscan.FoldsTo(key, identityNames...) && c.Skip()
	})
}

// objectOrNull reads an object member with read; a null leaves the struct as
// it was, as encoding/json does. Anything else gives up.
func objectOrNull(c *jsonscan.Cursor, read func() bool) bool {
	switch c.Peek() {
	case '{':
		return read()
	case 'n':
		isNull, ok := c.Literal()
		return ok && isNull
	}
	return false
}

// fastBool reads a boolString member: true, false, a string or null, as
// boolString.UnmarshalJSON does. Numbers give up.
func fastBool(c *jsonscan.Cursor, b *boolString, in *decode.Interner) bool {
	switch c.Peek() {
	case 't', 'f', 'n':
		start := c.I
		isNull, ok := c.Literal()
		if ok && !isNull {
			b.s = "true"
			if c.B[start] == 'f' {
				b.s = "false"
			}
		}
		return ok
	case '"':
		return c.StrOrNull(&b.s, in)
	}
	return false
}
