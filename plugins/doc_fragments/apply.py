# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # How changes reach nginx.
    DOCUMENTATION = r"""
options:
  reload:
    description:
      - Reload nginx after a validated change, and wait until its new workers run the new configuration.
      - The reload goes through systemd when systemd manages the running nginx, else C(nginx -s reload).
        nginx is never restarted, so established connections are not cut.
      - With V(true) the module fails, before changing anything, if nginx is not running.
      - With V(false) changes are written and validated with C(nginx -t) only; they take effect at
        the next reload or start.
    type: bool
    default: true
  lock_timeout:
    description:
      - Seconds to wait for another run that is applying rules to the same O(rules_dir) to finish.
        Concurrent runs are serialised; each applies its change completely.
    type: int
    default: 300
notes:
  - "Changes are transactional: the new rule set is staged beside the old one, switched in atomically,
    checked with C(nginx -t) and reloaded. If nginx refuses it (at test or at reload, for example an
    upstream host name that does not resolve or a port it cannot bind), the previous files are
    switched back byte for byte, nginx keeps serving the previous rules, and the module fails with
    nginx's message and the rule at fault."
  - If a run is killed while applying, the rule set on disk is the complete old or the complete new
    one; the next run rolls the interrupted change back and then applies its own.
"""
