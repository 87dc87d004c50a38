{#- Build what the targets' own pillars ask for (the master compiles them and has
    a builder build each distinct spec once: salt-run venvbuild.build), and what
    the builders' pillars define (venvbuild.builder), publish through the mine,
    then install on the targets in batches:

        salt-run state.orchestrate orch.venvbuild
        salt-run state.orchestrate orch.venvbuild pillar='{"venvbuild": {"orch": {"targets": "api*", "batch": 2}}}'

    Pillar (the master's, or pillar= on the command line), all optional:
      venvbuild:orch:builders / builders_tgt_type   default: venvbuild:builder:target / tgt_type
      venvbuild:orch:targets / targets_tgt_type     default: every minion but the builders
      venvbuild:orch:target_sls                     default: the targets' highstate (so
                                                    services that watch their venv restart);
                                                    a list of SLS to apply instead
      venvbuild:orch:batch                          default: '25%'
      venvbuild:orch:allow_local_builds             default: false; true lets more than 2
                                                    targets build their own wheels (the
                                                    runner refuses that otherwise, as the
                                                    role does)
    Builders are matched by what the master controls (minion ids, pillar,
    nodegroups), as targets find them (docs/security.md).
#}
{%- set vb = salt['pillar.get']('venvbuild', {}) %}
{%- set orch = vb.get('orch', {}) %}
{%- set builder = vb.get('builder', {}) %}
{%- set builders = orch.get('builders', builder.get('target')) %}
{%- set builders_type = orch.get('builders_tgt_type', builder.get('tgt_type', 'glob')) %}
{%- if builders is not string and builders is iterable %}
{%-   set builders = builders | join(',') %}
{%- endif %}
{%- set prefix = {'list': 'L@', 'pcre': 'E@', 'grain': 'G@', 'grain_pcre': 'P@', 'pillar': 'I@',
                  'pillar_pcre': 'J@', 'nodegroup': 'N@', 'ipcidr': 'S@'} %}
{%- if builders_type == 'compound' %}
{%-   set builders_expr = '( ' ~ builders ~ ' )' %}
{%- else %}
{%-   set builders_expr = prefix.get(builders_type, '') ~ builders %}
{%- endif %}
{%- set targets = orch.get('targets', '* and not ' ~ builders_expr) %}
{%- set targets_type = orch.get('targets_tgt_type', 'compound') %}

{%- if not builders %}
venvbuild_no_builders:
  test.fail_without_changes:
    - name: "venvbuild: set venvbuild:builder:target (or venvbuild:orch:builders) in the master's pillar, e.g. build01,build02 with tgt_type list"
{%- else %}
venvbuild_build_wheels:
  salt.state:
    - tgt: {{ builders | json }}
    - tgt_type: {{ builders_type }}
    - sls:
      - venvbuild.builder
    - failhard: True

venvbuild_build_for_targets:
  salt.runner:
    - name: venvbuild.build
    - tgt: {{ targets | json }}
    - tgt_type: {{ targets_type }}
    - allow_local_builds: {{ orch.get('allow_local_builds', False) | json }}
    - require:
      - salt: venvbuild_build_wheels

venvbuild_publish_mine:
  salt.function:
    - name: mine.update
    - tgt: {{ builders | json }}
    - tgt_type: {{ builders_type }}
    - require:
      - salt: venvbuild_build_for_targets

venvbuild_install_venvs:
  salt.state:
    - tgt: {{ targets | json }}
    - tgt_type: {{ targets_type }}
{%- if orch.get('target_sls') %}
    - sls: {{ orch['target_sls'] | json }}
{%- else %}
    - highstate: True
{%- endif %}
    - batch: {{ orch.get('batch', '25%') | json }}
    - require:
      - salt: venvbuild_publish_mine
{%- endif %}
