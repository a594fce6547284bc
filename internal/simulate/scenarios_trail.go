package simulate

import (
	"net/netip"
	"time"
)

// CloudTrail attack scenarios, modelled on the tester's IAM and S3 tests. In
// account A, the long-term key of svc-legacy-ops, a forgotten automation user, is
// used from an attacker's address to blind and weaken the account; in account B
// a stolen key assumes a role and calls IAM from Kali Linux; in account A the
// instance-role credentials of app-4 are used from outside AWS.

func trailScenarios(p *scenarioSetup) []*scenario {
	accA, accB := p.est.accounts[0], p.est.accounts[1]
	r0 := p.rng("trail-attacker")
	attacker := randomPublicIP(&r0)
	legacy := accA.user("svc-legacy-ops")
	return []*scenario{
		stopLogging(p, accA, legacy, attacker),
		passwordPolicy(p, accA, legacy, attacker),
		accountBPA(p, accA, legacy, attacker),
		bucketBPA(p, accA, legacy, attacker),
		rootUsage(p, accA),
		kaliLinux(p, accB),
		credentialExfiltration(p, accA),
	}
}

// keyExpected labels an access key.
func keyExpected(typ, sev string, acc *account, key string, ip netip.Addr) Expected {
	return Expected{Type: typ, Severity: sev, ResourceType: "AccessKey", Resource: key, RemoteIP: ip.String(),
		AccountID: acc.id, Region: region}
}

func stopLogging(p *scenarioSetup, acc *account, u *iamUser, ip netip.Addr) *scenario {
	trail := "arn:aws:cloudtrail:us-east-1:" + acc.id + ":trail/nwt-org-trail"
	s := &scenario{
		name:        "cloudtrail-stop-logging",
		description: "svc-legacy-ops's access key, used from an unknown address, lists the trails and stops logging",
		at:          0.62,
		length:      time.Minute,
	}
	s.events = func(r *rng, f ctFactory, out ctEmit) {
		ua := uaCLI + "cloudtrail.describe-trails"
		ev := f.event(acc, s.start, region, "cloudtrail.amazonaws.com", "DescribeTrails", true, userID(acc, u), ip.String(), ua)
		ev.RequestParameters = o("includeShadowTrails", true)
		ev.baseline = true
		out(ev)
		ev = f.event(acc, s.start+9, region, "cloudtrail.amazonaws.com", "GetTrailStatus", true, userID(acc, u), ip.String(), uaCLI+"cloudtrail.get-trail-status")
		ev.RequestParameters = o("name", trail)
		ev.baseline = true
		out(ev)
		ev = f.event(acc, s.start+21, region, "cloudtrail.amazonaws.com", "StopLogging", false, userID(acc, u), ip.String(), uaCLI+"cloudtrail.stop-logging")
		ev.RequestParameters = o("name", trail)
		out(ev)
	}
	s.expect = []Expected{keyExpected(typeTrailDisabled, sevLow, acc, u.accessKey, ip)}
	return s
}

func passwordPolicy(p *scenarioSetup, acc *account, u *iamUser, ip netip.Addr) *scenario {
	s := &scenario{
		name:        "password-policy-weakened",
		description: "svc-legacy-ops's access key sets the account's minimum password length to 6 and drops the complexity rules",
		at:          0.63,
		length:      time.Minute,
	}
	s.events = func(r *rng, f ctFactory, out ctEmit) {
		ev := f.event(acc, s.start, region, "iam.amazonaws.com", "GetAccountPasswordPolicy", true, userID(acc, u), ip.String(), uaCLI+"iam.get-account-password-policy")
		ev.baseline = true
		out(ev)
		ev = f.event(acc, s.start+14, region, "iam.amazonaws.com", "UpdateAccountPasswordPolicy", false, userID(acc, u), ip.String(), uaCLI+"iam.update-account-password-policy")
		ev.RequestParameters = o(
			"minimumPasswordLength", 6, "requireSymbols", false, "requireNumbers", false,
			"requireUppercaseCharacters", false, "requireLowercaseCharacters", false,
			"allowUsersToChangePassword", true, "maxPasswordAge", 0, "passwordReusePrevention", 0,
		)
		out(ev)
	}
	s.expect = []Expected{keyExpected(typePasswordPolicy, sevLow, acc, u.accessKey, ip)}
	return s
}

// s3Extra is the additionalEventData S3 writes on its management events.
func s3Extra(r *rng) obj {
	return o(
		"SignatureVersion", "SigV4", "CipherSuite", "TLS_AES_128_GCM_SHA256", "bytesTransferredIn", 0,
		"AuthenticationMethod", "AuthHeader", "x-amz-id-2", r.fromAlphabet(mixedAlnum+"+/", 76)+"=", "bytesTransferredOut", 0,
	)
}

func accountBPA(p *scenarioSetup, acc *account, u *iamUser, ip netip.Addr) *scenario {
	s := &scenario{
		name:        "s3-account-block-public-access-disabled",
		description: "svc-legacy-ops's access key turns off all four S3 Block Public Access settings for the account",
		at:          0.64,
		length:      time.Minute,
	}
	s.events = func(r *rng, f ctFactory, out ctEmit) {
		ev := f.event(acc, s.start, region, "s3.amazonaws.com", "PutAccountPublicAccessBlock", false, userID(acc, u), ip.String(), uaCLI+"s3control.put-public-access-block")
		ev.RequestParameters = o(
			"PublicAccessBlockConfiguration", o(
				"xmlns", "http://s3.amazonaws.com/doc/2006-03-01/",
				"BlockPublicAcls", false, "IgnorePublicAcls", false, "BlockPublicPolicy", false, "RestrictPublicBuckets", false,
			),
			"Host", acc.id+".s3-control.us-east-1.amazonaws.com",
		)
		ev.AdditionalEventData = s3Extra(r)
		ev.TLSDetails.ClientProvidedHostHeader = acc.id + ".s3-control.us-east-1.amazonaws.com"
		out(ev)
	}
	s.expect = []Expected{keyExpected(typeAccountBPA, sevLow, acc, u.accessKey, ip)}
	return s
}

// bucketBPA deletes a bucket's Block Public Access configuration. The S3 API
// action is DeletePublicAccessBlock; CloudTrail records it as
// DeleteBucketPublicAccessBlock.
func bucketBPA(p *scenarioSetup, acc *account, u *iamUser, ip netip.Addr) *scenario {
	s := &scenario{
		name:        "s3-bucket-block-public-access-disabled",
		description: "svc-legacy-ops's access key deletes the Block Public Access configuration of " + acc.bucket,
		at:          0.65,
		length:      time.Minute,
	}
	s.events = func(r *rng, f ctFactory, out ctEmit) {
		host := acc.bucket + ".s3.us-east-1.amazonaws.com"
		ev := f.event(acc, s.start, region, "s3.amazonaws.com", "DeleteBucketPublicAccessBlock", false, userID(acc, u), ip.String(), uaCLI+"s3api.delete-public-access-block")
		ev.RequestParameters = o("publicAccessBlock", "", "bucketName", acc.bucket, "Host", host)
		ev.AdditionalEventData = s3Extra(r)
		ev.Resources = []ctResource{{AccountID: acc.id, Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + acc.bucket}}
		ev.TLSDetails.ClientProvidedHostHeader = host
		out(ev)
	}
	e := keyExpected(typeBucketBPA, sevLow, acc, u.accessKey, ip)
	e.ResourceType, e.Resource = "S3Bucket", acc.bucket
	s.expect = []Expected{e}
	return s
}

// rootUsage: someone signs in as the root user and looks at the account's keys.
func rootUsage(p *scenarioSetup, acc *account) *scenario {
	root := acc.root
	r0 := p.rng("root-credential-usage")
	key := "ASIA" + r0.fromAlphabet(upperAlnum, 16)
	s := &scenario{
		name:        "root-credential-usage",
		description: "the root user signs in to the console and lists access keys",
		at:          0.70,
		length:      3 * time.Minute,
	}
	s.events = func(r *rng, f ctFactory, out ctEmit) {
		ev := f.event(acc, s.start, region, "signin.amazonaws.com", "ConsoleLogin", false,
			&userIdentity{Type: "Root", PrincipalID: acc.id, ARN: root.arn, AccountID: acc.id},
			root.sourceIP.String(), root.userAgent)
		consoleLogin(ev, "Yes")
		out(ev)
		id := consoleUserID(acc, root, key, time.Unix(s.start, 0))
		for i, name := range []string{"GetAccountSummary", "ListUsers", "ListAccessKeys"} {
			ev := f.event(acc, s.start+40+int64(i)*25, region, "iam.amazonaws.com", name, true, id, root.sourceIP.String(), "AWS Internal")
			ev.ConsoleSession = "true"
			out(ev)
		}
	}
	s.expect = []Expected{keyExpected(typeRootUsage, sevLow, acc, key, root.sourceIP)}
	return s
}

// consoleLogin shapes ev as a successful console sign-in.
func consoleLogin(ev *ctEvent, mfa string) {
	ev.EventType = "AwsConsoleSignIn"
	ev.RequestID = ""
	ev.ResponseElements = o("ConsoleLogin", "Success")
	ev.AdditionalEventData = o(
		"LoginTo", "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
		"MobileVersion", "No",
		"MFAUsed", mfa,
	)
}

// kaliLinux: with the stolen key of etl-bot, an attacker assumes the audit role
// and calls IAM with the Kali Linux AWS CLI user agent (the tester's
// PenTest:IAMUser/KaliLinux test).
func kaliLinux(p *scenarioSetup, acc *account) *scenario {
	u := acc.user("etl-bot")
	rl := acc.role("nwt-analytics-audit")
	r0 := p.rng("kali-linux")
	ip := randomPublicIP(&r0)
	key := "ASIA" + r0.fromAlphabet(upperAlnum, 16)
	session := "botocore-session-" + r0.fromAlphabet("0123456789", 10)
	s := &scenario{
		name:        "kali-linux-api-calls",
		description: "etl-bot's stolen key assumes nwt-analytics-audit (account B) and calls IAM from Kali Linux",
		at:          0.72,
		length:      2 * time.Minute,
	}
	s.events = func(r *rng, f ctFactory, out ctEmit) {
		created := time.Unix(s.start, 0)
		ev := f.event(acc, s.start, region, "sts.amazonaws.com", "AssumeRole", true, userID(acc, u), ip.String(), uaCLI+"sts.assume-role")
		ev.RequestParameters = o("roleArn", rl.arn, "roleSessionName", session)
		ev.ResponseElements = o(
			"credentials", o(
				"accessKeyId", key, "sessionToken", sessionToken(r), "expiration", expiration(created.Add(time.Hour)),
			),
			"assumedRoleUser", o(
				"assumedRoleId", rl.roleID+":"+session,
				"arn", "arn:aws:sts::"+acc.id+":assumed-role/"+rl.name+"/"+session,
			),
		)
		ev.Resources = []ctResource{{AccountID: acc.id, Type: "AWS::IAM::Role", ARN: rl.arn}}
		ev.baseline = true
		out(ev)
		id := roleSessionID(acc, rl, session, key, created)
		for i, user := range []string{"etl-bot", "carol"} {
			ev := f.event(acc, s.start+30+int64(i)*12, region, "iam.amazonaws.com", "GetUser", true, id, ip.String(), uaKali)
			ev.RequestParameters = o("userName", user)
			out(ev)
		}
	}
	s.expect = []Expected{keyExpected(typeKali, sevMedium, acc, key, ip)}
	return s
}

// credentialExfiltration: app-4's instance-role credentials, normally used from
// the NAT gateway's Elastic IP, are used from an internet address (as the tester
// does through Tor with credentials read from IMDS).
func credentialExfiltration(p *scenarioSetup, acc *account) *scenario {
	in := p.est.instance("app-4")
	r0 := p.rng("instance-credential-exfiltration")
	ip := randomPublicIP(&r0)
	s := &scenario{
		name:        "instance-credential-exfiltration",
		description: "app-4's instance-role credentials are used from an internet address outside AWS",
		at:          0.74,
		length:      10 * time.Minute,
	}
	s.events = func(r *rng, f ctFactory, out ctEmit) {
		t1 := s.start + 300
		id, _ := instanceRoleID(p.seed, in, t1)
		// The baseline: the application using its credentials from behind the NAT.
		for i := int64(0); i < 2; i++ {
			ev := f.event(acc, s.start+i*120, region, "secretsmanager.amazonaws.com", "GetSecretValue", true, id, in.egressIP.String(), uaBoto3)
			ev.RequestParameters = o("secretId", "prod/app/db-password")
			ev.baseline = true
			out(ev)
		}
		calls := []struct{ source, name string }{
			{"sts.amazonaws.com", "GetCallerIdentity"}, {"s3.amazonaws.com", "ListBuckets"},
			{"ec2.amazonaws.com", "DescribeInstances"}, {"secretsmanager.amazonaws.com", "ListSecrets"},
		}
		for i, c := range calls {
			ev := f.event(acc, t1+int64(i)*17, region, c.source, c.name, true, id, ip.String(), "python-requests/2.32.3")
			if c.source == "s3.amazonaws.com" {
				ev.RequestParameters = o("Host", "s3.amazonaws.com")
				ev.AdditionalEventData = s3Extra(r)
			}
			out(ev)
		}
	}
	s.placed = func() {
		// The key in use depends on when the scenario runs: credentials rotate.
		_, sess := instanceRoleID(p.seed, in, s.start+300)
		s.expect = []Expected{keyExpected(typeCredentialOutside, sevHigh, acc, sess.accessKey, ip)}
	}
	return s
}
