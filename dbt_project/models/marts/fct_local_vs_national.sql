{#- Copenhagen's own case outcomes beside the barometer indicators they are the local twin of,
    per barometer year: employment (1.2) beside the shares of a cohort in work within 1 and 3
    years, the Danish exam (3.3) beside the share passing within 5 years. The local value of a
    year is that of the arrival cohort whose window ended that year (year - window years). The
    definitions differ (a cohort's flow against the whole group's stock), so read the two side
    by side, not as one series. -#}
with local_outcomes as (
    select * from {{ ref('fct_case_outcomes') }}
    where programme = 'all' and sex = 'all' and age_band = 'all'
),

twins as (
    -- Which local outcome is the twin of which indicator: reference data, editable.
    select * from {{ ref('stg_reference__local_outcome_twins') }}
),

copenhagen as (
    select indicator_code, year, value
    from {{ ref('fct_indicator_values') }}
    where population_group = 'nonwestern' and municipality_code = '101'
),

national as (
    select indicator_code, year, value
    from {{ ref('fct_national_indicator_values') }}
    where population_group = 'nonwestern'
),

years as (
    select distinct indicator_code, year from national
)

select
    years.year::integer as year,
    twins.indicator_code::varchar as indicator_code,
    indicators.indicator_name_en::varchar as indicator_name_en,
    twins.local_outcome_code::varchar as local_outcome_code,
    (years.year - twins.years_after_arrival)::integer as arrival_year,
    local_outcomes.value::double precision as local_value,
    coalesce(local_outcomes.is_suppressed, false)::boolean as local_is_suppressed,
    coalesce(local_outcomes.is_cohort_too_young, local_outcomes.arrival_year is null)::boolean
        as local_is_unavailable,
    copenhagen.value::double precision as copenhagen_barometer_value,
    national.value::double precision as national_barometer_value,
    {{ round_half_away_from_zero('local_outcomes.value - national.value', 1) }}
        as local_minus_national_pp
from twins
inner join years using (indicator_code)
inner join {{ ref('dim_indicator') }} as indicators using (indicator_code)
left join local_outcomes
    on local_outcomes.outcome_code = twins.local_outcome_code
    and local_outcomes.arrival_year = years.year - twins.years_after_arrival
left join copenhagen
    on copenhagen.indicator_code = twins.indicator_code
    and copenhagen.year = years.year
left join national
    on national.indicator_code = twins.indicator_code
    and national.year = years.year
