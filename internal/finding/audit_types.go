package finding

// auditTypes are vigil's own finding types, raised from its audit log rather
// than from a customer's logs: changes to vigil's configuration that can hide
// activity from it. GuardDuty has no such types (its users watch CloudTrail for
// CreateIPSet and CreateFilter calls instead); vigil raises them itself, so that
// whoever can change a suppression rule or a trusted list cannot do it quietly.
// They follow GuardDuty's grammar with "Vigil" as the resource family, describe
// the change as an AWS_API_CALL on serviceName "vigil" by the token (an
// AccessKey resource whose accessKeyId is the token's ID and userName its
// name), and aggregate per token and operation.
var auditTypes = []TypeInfo{
	vigilAudit("Policy:Vigil/SuppressionRuleChanged",
		"A suppression rule was created or changed by {principal}.",
		"{principal} called {api} from {remoteIp} and created or changed a filter whose action is ARCHIVE: findings it matches are stored archived and not notified. Someone who can change suppression rules can hide their own activity; check the change in vigil's audit log."),
	vigilAudit("Policy:Vigil/TrustedListChanged",
		"A trusted list was activated or changed by {principal}.",
		"{principal} called {api} from {remoteIp} and activated or changed an active trusted list: traffic with its entries raises no findings. Someone who can change a trusted list can blind detection; check the change in vigil's audit log."),
	vigilAudit("Policy:Vigil/ThreatListDisabled",
		"An active threat list was deactivated, deleted or shrunk by {principal}.",
		"{principal} called {api} from {remoteIp} and took entries of an active threat list out of effect: contact with them no longer raises findings. Check the change in vigil's audit log."),
}

func vigilAudit(t Type, title, desc string) TypeInfo {
	return TypeInfo{Type: t, Source: SourceAudit, ResourceType: ResourceAccessKey, ActionType: ActionAWSAPICall,
		Role: RoleActor, Severity: SeverityMedium, Key: KeyAPI, Title: title, Description: desc}
}
