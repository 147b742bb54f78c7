{#- The small-cell threshold: BAROMETER_MIN_CELL from the settings (orchestration/settings.py
    passes it to dbt); a published count or share must rest on at least this many citizens. -#}
{% macro min_cell() -%}
    {{ return(env_var('BAROMETER_MIN_CELL', '5') | int) }}
{%- endmacro %}

{#- Every case outcome, the one place its definition lives:
    - kind: count (citizens), share (percent of the citizens with a known value that are true),
      median (of a day count), organisations (distinct volunteer organisations);
    - column: the per-citizen column of int_citizen_outcomes it is computed from;
    - window_days: the observation window in days from arrival (from the start of Danish
      education for the exam), which is also the outcome's threshold ("within 91 days"). A
      cohort whose window has not closed for all of its members is too young: null, not zero;
    - base_group: outcomes of one group rest on the same citizens in every cell (their
      base_citizens agree wherever the cohort is old enough), so they are suppressed together:
      a cell blanked in one but published in another would give its base away. -#}
{% macro case_outcomes() -%}
    {{ return([
        {'code': 'citizens', 'unit': 'count', 'kind': 'count', 'column': none,
         'window_days': none, 'base_group': 'cohort'},
        {'code': 'asylum_centre_contact_pct', 'unit': 'pct', 'kind': 'share',
         'column': 'asylum_centre_contact', 'window_days': none, 'base_group': 'cohort'},
        {'code': 'days_to_competence_clarification_median', 'unit': 'days', 'kind': 'median',
         'column': 'days_to_competence_clarification', 'window_days': 91,
         'base_group': 'competence_clarification'},
        {'code': 'days_to_first_internship_median', 'unit': 'days', 'kind': 'median',
         'column': 'days_to_first_internship', 'window_days': 91,
         'base_group': 'first_internship'},
        {'code': 'internship_within_91_days_pct', 'unit': 'pct', 'kind': 'share',
         'column': 'internship_within_91_days', 'window_days': 91, 'base_group': 'cohort'},
        {'code': 'employed_within_365_days_pct', 'unit': 'pct', 'kind': 'share',
         'column': 'employed_within_365_days', 'window_days': 365, 'base_group': 'cohort'},
        {'code': 'employed_within_1095_days_pct', 'unit': 'pct', 'kind': 'share',
         'column': 'employed_within_1095_days', 'window_days': 1095, 'base_group': 'cohort'},
        {'code': 'danish_exam_within_5_years_pct', 'unit': 'pct', 'kind': 'share',
         'column': 'danish_exam_within_5_years', 'window_days': 1826,
         'base_group': 'danish_education'},
        {'code': 'self_supporting_within_1095_days_pct', 'unit': 'pct', 'kind': 'share',
         'column': 'self_supporting_within_1095_days', 'window_days': 1095,
         'base_group': 'cohort'},
        {'code': 'welcome_house_pct', 'unit': 'pct', 'kind': 'share', 'column': 'welcome_house',
         'window_days': none, 'base_group': 'cohort'},
        {'code': 'volunteer_organisations', 'unit': 'count', 'kind': 'organisations',
         'column': 'volunteer_organisations', 'window_days': none, 'base_group': 'cohort'},
    ]) }}
{%- endmacro %}

{#- The window of one outcome, by code. -#}
{% macro case_outcome_window(code) -%}
    {%- for outcome in case_outcomes() if outcome.code == code -%}
        {{ return(outcome.window_days) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no case outcome " ~ code) }}
{%- endmacro %}

{#- True when the window of an outcome has closed for every citizen of an arrival cohort. -#}
{% macro cohort_window_closed(arrival_year, window_days, as_of_date) -%}
    (make_date({{ arrival_year }}, 12, 31) + {{ window_days }} <= {{ as_of_date }})
{%- endmacro %}

{#- The cell dimensions of the case marts: each has an explicit 'unknown' member and a margin
    'all', so every citizen is in exactly one part of every margin. -#}
{% macro cell_dimensions() -%}
    {{ return(['programme', 'sex', 'age_band']) }}
{%- endmacro %}

{#- The published cells of a suppression table, one row per cell and equation: each cell is a
    member of one equation per dimension, holding the cells that differ from it only there (a
    margin 'all' equals the sum of its children), per arrival year and `by` (the base group
    when suppressing, the outcome when testing what is published). Cells of a too-young cohort
    publish nothing and take no part. -#}
{% macro suppression_equations(relation, by='base_group') -%}
    {%- set dimensions = cell_dimensions() -%}
    {%- for dimension in dimensions %}
    select distinct
        arrival_year, {{ by }}, programme, sex, age_band,
        '{{ dimension }}' as dimension,
        {{ dimensions | reject('equalto', dimension) | join(" || '|' || ") }} as equation
    from {{ relation }}
    where not is_cohort_too_young
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The eight corners of a suppression cube (int_case_outcomes_suppressed), as a relation named
    corner: one bit per cell dimension picks the cube's first or second value there. -#}
{% macro cube_corners() -%}
    (
        select *
        {%- for dimension in cell_dimensions() %}
        {{ 'from' if loop.first else 'cross join' }} (values (0), (1)) as {{ dimension }}_bits({{ dimension }}_bit)
        {%- endfor %}
    ) as corner
{%- endmacro %}

{#- A corner's cell: each dimension's first value (<dimension>_1) or second (<dimension>_2). -#}
{% macro cube_corner() -%}
    {%- for dimension in cell_dimensions() %}
    case when corner.{{ dimension }}_bit = 1 then {{ dimension }}_2 else {{ dimension }}_1 end
        as {{ dimension }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
