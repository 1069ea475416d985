# Derives the Debian package's /etc/kakeru/kakeru.yaml from config.example.yaml (GNU sed):
# every user's token_sha256 becomes the placeholder config.TokenPlaceholder, which serve,
# migrate and config check refuse until it is replaced, the demo tokens' hints go, and list
# uploads are spooled under the service's state directory. TestPackageConfig checks the result.
1c\
# kakeru configuration, installed by the Debian package as /etc/kakeru/kakeru.yaml (a conffile:\
# upgrades keep your changes). It starts as the demo setup of config.example.yaml with no API\
# tokens; docs/operations.md ("Install the Debian package") tells what to set before starting.
/^# (printf, not echo: a trailing newline/,/^# `kakeru serve` warns while a demo token/c\
# (printf, not echo: a trailing newline would change the hash). This file ships without tokens:\
# every token_sha256 below is the placeholder REPLACE_WITH_SHA256_OF_TOKEN, and `kakeru serve`,\
# `kakeru migrate` and `kakeru config check` refuse to run until each one is the hash of that\
# user's own long random token (delete the users you do not need).
s|^  # upload_dir: /var/tmp/kakeru-uploads$|  upload_dir: /var/lib/kakeru/uploads|
s|^# DEMO TOKENS: replace every hash below in production.*$|# Replace every REPLACE_WITH_SHA256_OF_TOKEN below (see the top of this file).|
/^ *# printf %s demo-.*-token | sha256sum$/d
s|^\( *token_sha256:\) *[0-9a-f]\{64\}$|\1 REPLACE_WITH_SHA256_OF_TOKEN|
