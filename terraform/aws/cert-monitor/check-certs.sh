#!/bin/bash
# Reports cert-manager Certificates that need a person: expiring within WARN_DAYS, issuing for longer than
# STUCK_HOURS, or not Ready for another reason. Findings go to the job's log and, when WEBHOOK_URL is set, to a
# Slack-compatible webhook ({"text": ...}). Exit 0 with or without findings; non-zero only when the cluster
# cannot be read, so a failed Job means "the monitor is broken", not "a certificate is".
set -euo pipefail

warn_days="${WARN_DAYS:-14}"
stuck_hours="${STUCK_HOURS:-24}"
cluster="${CLUSTER_LABEL:-unknown}"
webhook="${WEBHOOK_URL:-}"

if ! certificates="$(kubectl get certificates.cert-manager.io --all-namespaces -o json)"; then
  echo "cert-monitor: cannot list Certificates (kubectl failed)" >&2
  exit 2
fi

findings="$(jq -r --argjson warn "$((warn_days * 86400))" --argjson stuck "$((stuck_hours * 3600))" '
  def seconds: if . == null then null else sub("\\.[0-9]+"; "") | fromdateiso8601 end;
  def condition($type): ((.status.conditions // []) | map(select(.type == $type)) | first) // null;
  now as $now
  | .items[]
  | "\(.metadata.namespace)/\(.metadata.name)" as $name
  | (.status.notAfter | seconds) as $expires
  | condition("Issuing") as $issuing
  | condition("Ready") as $ready
  | [
      (if $expires != null and $expires - $now < $warn
        then "\($name): expires \(.status.notAfter) (in \((($expires - $now) / 86400) | floor) days)" else empty end),
      (if $issuing != null and $issuing.status == "True" and ($now - ($issuing.lastTransitionTime | seconds)) > $stuck
        then "\($name): issuing since \($issuing.lastTransitionTime) (\($issuing.reason // "no reason"))" else empty end),
      (if $ready != null and $ready.status == "False" and ($ready.reason // "") != "Issuing"
        then "\($name): not ready (\($ready.reason // "no reason"): \($ready.message // ""))" else empty end)
    ]
  | .[]
' <<<"$certificates")"

if [ -z "$findings" ]; then
  echo "cert-monitor: ${cluster}: every Certificate is fine (warn ${warn_days} days, stuck ${stuck_hours} hours)"
  exit 0
fi

echo "cert-monitor: ${cluster}: certificates that need attention:"
echo "$findings"

if [ -n "$webhook" ]; then
  payload="$(jq -n --arg text "Certificates on ${cluster} need attention:"$'\n'"${findings}" '{text: $text}')"
  if ! curl --silent --show-error --fail --max-time 20 -H 'Content-Type: application/json' -d "$payload" "$webhook" >/dev/null; then
    echo "cert-monitor: the webhook did not accept the report (findings above)" >&2
  fi
fi
