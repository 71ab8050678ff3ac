#!/usr/bin/env bash
# Regenerates the plugin's translation template and German catalogue the
# WordPress way (GNU gettext: apt-get install -y gettext):
#   languages/creditbridge.pot        every string of the plugin (xgettext)
#   languages/creditbridge-de_DE.po   German, merged with the template (msgmerge);
#                                     new strings appear untranslated (fuzzy/empty)
#   languages/creditbridge-de_DE.mo   compiled (msgfmt); WordPress loads it
# Run after changing strings, translate the new entries in the .po, run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/creditbridge"
xgettext --language=PHP --from-code=UTF-8 --add-comments=translators: \
	--keyword=__:1 --keyword=_e:1 --keyword=esc_html__:1 --keyword=esc_html_e:1 \
	--keyword=esc_attr__:1 --keyword=esc_attr_e:1 --keyword=_x:1,2c --keyword=esc_html_x:1,2c --keyword=_n:1,2 \
	--sort-by-file --package-name=creditbridge --package-version=0.1.0 \
	--msgid-bugs-address=https://github.com/creditbridge/creditbridge/issues \
	-o languages/creditbridge.pot ./*.php includes/*.php
sed -i 's/charset=CHARSET/charset=UTF-8/' languages/creditbridge.pot
msgmerge --quiet --update --backup=none --no-fuzzy-matching languages/creditbridge-de_DE.po languages/creditbridge.pot
msgfmt --check --statistics -o languages/creditbridge-de_DE.mo languages/creditbridge-de_DE.po
