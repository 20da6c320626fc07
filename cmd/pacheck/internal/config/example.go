package config

// Example is the commented configuration `pacheck config example` prints; it sets every key.
const Example = `# pacheck run configuration. Secrets come from the environment: ${VAR} is replaced by the
# variable's value, and a variable that is not set is an error naming it.

# FHIR base URL of the Patient Access API under test.
target: https://fhir.example-payer.com/r4

# What to test: a preset (pacheck presets lists them). suites/igs below override it.
preset: cms-patient-access

auth:
  # browser: drive headless Chromium through the SMART login (unattended);
  # token: use a bearer token you already have; none: public checks only.
  mode: browser
  token: ${PACHECK_TOKEN}            # mode token only
  client_id: my-registered-app
  client_secret: ${PACHECK_CLIENT_SECRET}   # confidential clients
  private_key: keys/client-jwk.json  # private_key_jwt clients (PEM or JWK file)
  token_endpoint_auth: client_secret_basic  # none | client_secret_basic | client_secret_post | private_key_jwt
  redirect_uri: https://app.example.com/callback   # any registered URI: it never has to resolve
  scopes: [launch/patient, openid, fhirUser, offline_access, patient/*.rs]
  login:
    username: ${MEMBER_USERNAME}
    password: ${MEMBER_PASSWORD}
    member: "Demo Member 1"          # on a member/patient chooser (default: the username's entry, else the first)
    totp_secret: ${MEMBER_TOTP_SECRET}   # authenticator key (base32) for a two-factor page
    # Optional explicit steps; without them pacheck finds the login, chooser and consent controls
    # itself (pacheck login --config FILE shows each page, its controls and what was done).
    # A step applies to a page when its when: holds (a visible selector, a text shown, a URL
    # pattern) and its url: matches; once: true uses it for one page only. Every action waits for
    # its element to be visible and enabled (timeout: 20s overrides the wait).
    steps:
      - when: {selector: "#password"}
        once: true
        actions:
          - fill: {selector: "#username", value: "${MEMBER_USERNAME}"}
          - fill: {selector: "#password", value: "${MEMBER_PASSWORD}", secret: true}
          - click: "text=Sign in"        # a button, link or role=button by its text (any case), or a CSS selector
      - when: {selector: "input[autocomplete=one-time-code]"}
        actions:
          - fill: {selector: "#otp", totp: true}   # the current code of totp_secret
          - click: "button[type=submit]"
      - when: {text: "Share your records"}
        actions:
          - uncheck: "input[value='patient/Observation.rs']"
          - select: {selector: "#member", value: "Demo Member 1"}   # an option's value or visible text
          - screenshot: consent
          - click: "#approve"
          - wait: "url:callback"         # also a CSS selector, text=<text> or a duration (2s)
  # Cross-member probes need another member's login or a patient id this member must not see.
  second_member:
    username: ${MEMBER2_USERNAME}
    password: ${MEMBER2_PASSWORD}
  other_patient: "patient-999"
  # Further registered clients: each is launched once, with its own negative probes.
  extra_clients:
    - client_id: my-confidential-app
      client_secret: ${PACHECK_CLIENT2_SECRET}
      token_endpoint_auth: client_secret_post
      redirect_uri: https://app.example.com/callback
  # One launch that declines a scope on the consent page: the token must not carry it.
  consent:
    scope: offline_access
    steps:
      - when: {selector: "#approve"}
        actions:
          - uncheck: "input[value='offline_access']"
          - click: "#approve"
  # One launch that presses Deny on the consent page: the redirect must carry
  # error=access_denied and no code. The steps sign in (the login steps do not apply here).
  deny:
    steps:
      - when: {selector: "#password"}
        actions:
          - fill: {selector: "#username", value: "${MEMBER_USERNAME}"}
          - fill: {selector: "#password", value: "${MEMBER_PASSWORD}", secret: true}
          - click: "button[type=submit]"
      - when: {selector: "#deny"}
        actions:
          - click: "#deny"
  # The member portal the app is launched from (SMART EHR launch): pacheck signs in there,
  # presses the app's launch control and catches the browser on the app's registered launch URL
  # (never has to resolve). Without steps the default strategy signs in and presses a
  # launch/connect button. Unset, the ehr-launch specs skip.
  portal:
    url: https://members.example-payer.com/portal
    launch_url: https://app.example.com/launch
    steps:
      - when: {selector: "#password"}
        actions:
          - fill: {selector: "#username", value: "${MEMBER_USERNAME}"}
          - fill: {selector: "#password", value: "${MEMBER_PASSWORD}", secret: true}
          - click: "button[type=submit]"
      - when: {text: "Connect app"}
        actions:
          - click: "text=Connect app"
  expired_token: ${PACHECK_EXPIRED_TOKEN}   # an expired access token, for the expired-token probe
  # The lifetime of your authorization codes (at most 30m): the code-expiry probe holds a fresh
  # code that long plus 2 s and expects invalid_grant, so the run takes at least that long.
  # Unset, it skips (a client cannot learn the lifetime from the wire).
  code_lifetime: 60s
  parallel_sign_ins: 1   # browser sign-ins at once (up to 8); 1 for servers that refuse concurrent sign-ins
  # Origins (scheme://host[:port]) credentials may go to besides the target's, e.g. a separate
  # authorization server or identity provider. Unset: any https endpoint the server publishes.
  # Set: every discovered endpoint must be on the target's origin or a listed one, and the
  # sign-in's browser visits only the authorization endpoint's origin and the listed ones.
  allowed_origins: [https://login.example-payer.com]

# Patient ids to examine besides the launch patient.
patients: ["patient-123"]

# The payer's attestations for requirements no spec can observe on the wire (data back to 2016,
# one-business-day availability, member education, API documentation, annual metrics): a YAML
# list of {id, who, when: YYYY-MM-DD, evidence, statement}. Shown as "attested" (the payer's claim,
# never pass); without an entry such a requirement is untested, naming the entry to add.
attestations: attestations.yaml

# What you state about the test members' data (recorded in the report). The IGs require a server
# to be capable of populating every must-support element, which data lacking an element cannot
# show: its must-support spec skips, naming the element. With must_support_complete (only when the
# members' records together hold every must-support element of the tested profiles), an element
# no returned resource populates is data the server did not return, and the spec fails.
attest:
  must_support_complete: false

# The payer's member education on app privacy and security (42 CFR 422.119(g)); the member suite
# checks it is reachable (without it, it looks for an education link on the consent page).
member:
  education_url: ""

# IG versions per IG (overrides the preset); several versions run side by side.
igs:
  uscore: ["6.1.0"]
  carinbb: ["2.0.0"]

# Suite areas (overrides the preset): smart, capability, uscore, carinbb, pdex, formulary, public.
suites: [smart, capability, uscore, carinbb, pdex, formulary]

label_filter: "level:SHALL"          # Ginkgo label-filter expression
focus: ["uscore-6.1.0/us-core-patient"]   # regular expressions on spec ids
strict: false                        # true: SHOULD-level failures fail the run too

limits:
  request_timeout: 30s
  max_pages: 20
  max_body_bytes: 20971520
  max_redirects: 5
  deadline: 45m            # the whole run; by default sized from what is selected
  retries: 3               # attempts for a 429 or 503 answer (1: no retry; at most 10)
  retry_max_wait: 30s      # longest wait before a retry, Retry-After included
  max_latency: 2s          # 95th-percentile response time capability.http.available accepts
  max_patients: 10         # patients whose data is examined: the launch patient, then those listed, in order
  max_reference_reads: 50  # reads the dataquality suite makes to resolve references (a sample, stated)

tls:
  ca_bundle: internal-ca.pem         # PEM certificate authorities trusted besides the system's (never: verification off)

out: pacheck-report                  # report folder
known_issues: known-issues.yaml      # accepted deviations: spec id, reason, expiry date
packages: [extra/my-ig-1.0.0.tgz]    # FHIR packages to add to the embedded ones
# true: accept an incomplete verdict (nothing failed, but some selected SHALL requirement did not
# run) as success for the exit status; by default it is not, since conformance was not shown.
allow_incomplete: false
`
