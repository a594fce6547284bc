package record

import "net/netip"

// APICall is one CloudTrail event. The fields detections and common queries use are
// typed; everything else (requestParameters.*, responseElements.*, resources.N.ARN,
// additionalEventData.*) stays in Raw and is reached through Path with the dotted,
// flattened names Logs Insights uses.
type APICall struct {
	Present FieldSet

	EventVersion       string
	EventTime          int64 // Unix milliseconds
	EventSource        string
	EventName          string
	EventType          string
	EventCategory      string
	EventID            string
	AWSRegion          string
	SourceIPAddress    string     // an address, or a service name such as ec2.amazonaws.com
	SourceIP           netip.Addr // SourceIPAddress when it is an address
	UserAgent          string
	ErrorCode          string
	ErrorMessage       string
	ReadOnly           string // "true"/"false" as logged
	RecipientAccountID string
	RequestID          string
	ManagementEvent    string
	VPCEndpointID      string

	UserType         string // userIdentity.type
	UserPrincipalID  string // userIdentity.principalId
	UserARN          string // userIdentity.arn
	UserAccountID    string // userIdentity.accountId
	UserAccessKeyID  string // userIdentity.accessKeyId
	UserName         string // userIdentity.userName
	UserInvokedBy    string // userIdentity.invokedBy
	IssuerType       string // userIdentity.sessionContext.sessionIssuer.type
	IssuerARN        string // userIdentity.sessionContext.sessionIssuer.arn
	IssuerUserName   string // userIdentity.sessionContext.sessionIssuer.userName
	MFAAuthenticated string // userIdentity.sessionContext.attributes.mfaAuthenticated
	EC2RoleDelivery  string // userIdentity.sessionContext.ec2RoleDelivery

	// Raw is the event's JSON text. It aliases the decoder's buffer and is valid only
	// as long as the batch that carried it.
	Raw    []byte
	Stream string
}

// The CloudTrail fields, in catalogue order.
const (
	CallEventVersion FieldID = iota
	CallEventTime
	CallEventSource
	CallEventName
	CallEventType
	CallEventCategory
	CallEventID
	CallAWSRegion
	CallSourceIPAddress
	CallUserAgent
	CallErrorCode
	CallErrorMessage
	CallReadOnly
	CallRecipientAccountID
	CallRequestID
	CallManagementEvent
	CallVPCEndpointID
	CallUserType
	CallUserPrincipalID
	CallUserARN
	CallUserAccountID
	CallUserAccessKeyID
	CallUserName
	CallUserInvokedBy
	CallIssuerType
	CallIssuerARN
	CallIssuerUserName
	CallMFAAuthenticated
	CallEC2RoleDelivery
	CallTimestamp
	CallMessage
	CallLogStream
	numCallFields
)

// APICallCatalogue lists the CloudTrail fields under their flattened JSON names. It
// is open: any other path into the event is looked up in the raw JSON.
var APICallCatalogue = newCatalogue(KindAPICall, true, []Field{
	{ID: CallEventVersion, Name: "eventVersion", Type: TypeString},
	{ID: CallEventTime, Name: "eventTime", Type: TypeTime},
	{ID: CallEventSource, Name: "eventSource", Type: TypeString, Doc: "service endpoint, e.g. s3.amazonaws.com"},
	{ID: CallEventName, Name: "eventName", Type: TypeString, Doc: "the API action"},
	{ID: CallEventType, Name: "eventType", Type: TypeString},
	{ID: CallEventCategory, Name: "eventCategory", Type: TypeString},
	{ID: CallEventID, Name: "eventID", Type: TypeString},
	{ID: CallAWSRegion, Name: "awsRegion", Type: TypeString},
	{ID: CallSourceIPAddress, Name: "sourceIPAddress", Type: TypeString, Doc: "caller address or service name"},
	{ID: CallUserAgent, Name: "userAgent", Type: TypeString},
	{ID: CallErrorCode, Name: "errorCode", Type: TypeString},
	{ID: CallErrorMessage, Name: "errorMessage", Type: TypeString},
	{ID: CallReadOnly, Name: "readOnly", Type: TypeString},
	{ID: CallRecipientAccountID, Name: "recipientAccountId", Type: TypeString},
	{ID: CallRequestID, Name: "requestID", Type: TypeString},
	{ID: CallManagementEvent, Name: "managementEvent", Type: TypeString},
	{ID: CallVPCEndpointID, Name: "vpcEndpointId", Type: TypeString},
	{ID: CallUserType, Name: "userIdentity.type", Type: TypeString, Doc: "Root, IAMUser, AssumedRole, AWSService…"},
	{ID: CallUserPrincipalID, Name: "userIdentity.principalId", Type: TypeString},
	{ID: CallUserARN, Name: "userIdentity.arn", Type: TypeString},
	{ID: CallUserAccountID, Name: "userIdentity.accountId", Type: TypeString},
	{ID: CallUserAccessKeyID, Name: "userIdentity.accessKeyId", Type: TypeString},
	{ID: CallUserName, Name: "userIdentity.userName", Type: TypeString},
	{ID: CallUserInvokedBy, Name: "userIdentity.invokedBy", Type: TypeString},
	{ID: CallIssuerType, Name: "userIdentity.sessionContext.sessionIssuer.type", Type: TypeString},
	{ID: CallIssuerARN, Name: "userIdentity.sessionContext.sessionIssuer.arn", Type: TypeString},
	{ID: CallIssuerUserName, Name: "userIdentity.sessionContext.sessionIssuer.userName", Type: TypeString},
	{ID: CallMFAAuthenticated, Name: "userIdentity.sessionContext.attributes.mfaAuthenticated", Type: TypeString},
	{ID: CallEC2RoleDelivery, Name: "userIdentity.sessionContext.ec2RoleDelivery", Type: TypeString},
	{ID: CallTimestamp, Name: "@timestamp", Type: TypeTime, Doc: "event time: eventTime"},
	{ID: CallMessage, Name: "@message", Type: TypeString, Doc: "the raw JSON event"},
	{ID: CallLogStream, Name: "@logStream", Type: TypeString, Doc: "the file or object the event came from"},
}, nil)

func init() { catalogues[KindAPICall] = APICallCatalogue }

// Kind returns KindAPICall.
func (c *APICall) Kind() Kind { return KindAPICall }

// Timestamp returns eventTime in Unix milliseconds.
func (c *APICall) Timestamp() int64 { return c.EventTime }

// Get returns a catalogued field's value (record.Record).
func (c *APICall) Get(id FieldID) Value {
	switch id {
	case CallTimestamp:
		id = CallEventTime
	case CallMessage:
		if c.Raw == nil {
			return Value{}
		}
		return StringValue(unsafeString(c.Raw))
	case CallLogStream:
		if c.Stream == "" {
			return Value{}
		}
		return StringValue(c.Stream)
	}
	if !c.Present.Has(id) {
		return Value{}
	}
	if id == CallEventTime {
		return TimeValue(c.EventTime)
	}
	if p := c.StringField(id); p != nil {
		return StringValue(*p)
	}
	return Value{}
}

// StringField returns a pointer to the member holding a string field, or nil.
func (c *APICall) StringField(id FieldID) *string {
	switch id {
	case CallEventVersion:
		return &c.EventVersion
	case CallEventSource:
		return &c.EventSource
	case CallEventName:
		return &c.EventName
	case CallEventType:
		return &c.EventType
	case CallEventCategory:
		return &c.EventCategory
	case CallEventID:
		return &c.EventID
	case CallAWSRegion:
		return &c.AWSRegion
	case CallSourceIPAddress:
		return &c.SourceIPAddress
	case CallUserAgent:
		return &c.UserAgent
	case CallErrorCode:
		return &c.ErrorCode
	case CallErrorMessage:
		return &c.ErrorMessage
	case CallReadOnly:
		return &c.ReadOnly
	case CallRecipientAccountID:
		return &c.RecipientAccountID
	case CallRequestID:
		return &c.RequestID
	case CallManagementEvent:
		return &c.ManagementEvent
	case CallVPCEndpointID:
		return &c.VPCEndpointID
	case CallUserType:
		return &c.UserType
	case CallUserPrincipalID:
		return &c.UserPrincipalID
	case CallUserARN:
		return &c.UserARN
	case CallUserAccountID:
		return &c.UserAccountID
	case CallUserAccessKeyID:
		return &c.UserAccessKeyID
	case CallUserName:
		return &c.UserName
	case CallUserInvokedBy:
		return &c.UserInvokedBy
	case CallIssuerType:
		return &c.IssuerType
	case CallIssuerARN:
		return &c.IssuerARN
	case CallIssuerUserName:
		return &c.IssuerUserName
	case CallMFAAuthenticated:
		return &c.MFAAuthenticated
	case CallEC2RoleDelivery:
		return &c.EC2RoleDelivery
	}
	return nil
}

// Path looks up a flattened path (requestParameters.bucketName,
// resources.0.ARN) in the raw event (record.Record).
func (c *APICall) Path(path string) Value { return JSONPath(c.Raw, path) }

// Reset clears the record for reuse.
func (c *APICall) Reset() { *c = APICall{} }
