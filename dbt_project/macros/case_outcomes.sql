{#- The small-cell threshold: BAROMETER_MIN_CELL from the settings (orchestration/settings.py
    passes it to dbt); a published count or share must rest on at least this many citizens. -#}
{% macro min_cell() -%}
    {{ return(env_var('BAROMETER_MIN_CELL', '5') | int) }}
{%- endmacro %}

{#- The observation window of each case outcome, in days from arrival (from the start of Danish
    education for the exam). A cohort whose window has not closed for all of its members by the
    data's as-of date is too young: its value is null, not zero. One place for these numbers. -#}
{% macro case_outcome_windows() -%}
    {{ return({
        'days_to_competence_clarification_median': 91,
        'days_to_first_internship_median': 91,
        'internship_within_91_days_pct': 91,
        'employed_within_365_days_pct': 365,
        'employed_within_1095_days_pct': 1095,
        'danish_exam_within_5_years_pct': 1826,
        'self_supporting_within_1095_days_pct': 1095,
    }) }}
{%- endmacro %}

{#- True when the window of an outcome has closed for every citizen of an arrival cohort. -#}
{% macro cohort_window_closed(arrival_year, window_days, as_of_date) -%}
    (make_date({{ arrival_year }}, 12, 31) + {{ window_days }} <= {{ as_of_date }})
{%- endmacro %}

{#- The published cells of a suppression table, one row per cell and equation: each cell is a
    member of one equation per dimension, holding the cells that differ from it only there (a
    margin 'all' equals the sum of its children). Cells of a too-young cohort publish nothing. -#}
{% macro suppression_equations(relation) -%}
    {%- set dimensions = ['programme', 'sex', 'age_band'] -%}
    {%- for dimension in dimensions %}
    select
        arrival_year, outcome_code, programme, sex, age_band,
        '{{ dimension }}' as dimension,
        {{ dimensions | reject('equalto', dimension) | join(" || '|' || ") }} as equation
    from {{ relation }}
    where not is_cohort_too_young
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
