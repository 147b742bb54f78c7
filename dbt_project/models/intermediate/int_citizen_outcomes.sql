{#- One row per citizen: each outcome of docs/data.md §5, or null where it cannot be known yet.

    A share outcome is true/false once its window has closed for the citizen's whole arrival
    cohort, and null before (the cohort is too young: null, not zero). The Danish exam also
    needs the citizen's own 5 years since the start of Danish education to have passed.
    Day counts are null for a citizen who has not reached the milestone. Every window and
    threshold comes from case_outcomes() (macros/case_outcomes.sql), the one place for them. -#}
{%- set window = case_outcome_window -%}

with as_of as (
    -- The data's own "today": the latest extract night (of events or citizens, so a night
    -- without events still has one), so a rebuild gives the same answer.
    select greatest(
        (select max(extract_date) from {{ ref('int_case_events_resolved') }}),
        (select max(valid_from) from {{ ref('int_citizens_current') }})
    ) as as_of_date
),

milestones as (
    select * from {{ ref('int_citizen_milestones') }}
    cross join as_of
),

outcomes as (
    select
        citizen_id,
        arrival_year,
        programme,
        sex,
        age_band,
        as_of_date,
        asylum_centre_contact_date is not null as asylum_centre_contact,
        case when {{ cohort_window_closed('arrival_year', window('days_to_competence_clarification_median'), 'as_of_date') }}
            then competence_clarification_date - arrival_date end
            as days_to_competence_clarification,
        case when {{ cohort_window_closed('arrival_year', window('days_to_first_internship_median'), 'as_of_date') }}
            then first_internship_date - arrival_date end
            as days_to_first_internship,
        case when {{ cohort_window_closed('arrival_year', window('internship_within_91_days_pct'), 'as_of_date') }}
            then coalesce(first_internship_date - arrival_date <= {{ window('internship_within_91_days_pct') }}, false) end
            as internship_within_91_days,
        case when {{ cohort_window_closed('arrival_year', window('employed_within_365_days_pct'), 'as_of_date') }}
            then coalesce(first_employment_date - arrival_date <= {{ window('employed_within_365_days_pct') }}, false) end
            as employed_within_365_days,
        case when {{ cohort_window_closed('arrival_year', window('employed_within_1095_days_pct'), 'as_of_date') }}
            then coalesce(first_employment_date - arrival_date <= {{ window('employed_within_1095_days_pct') }}, false) end
            as employed_within_1095_days,
        case when {{ cohort_window_closed('arrival_year', window('danish_exam_within_5_years_pct'), 'as_of_date') }}
                and danish_education_start_date + {{ window('danish_exam_within_5_years_pct') }} <= as_of_date
            then coalesce(danish_exam_passed_date - danish_education_start_date <= {{ window('danish_exam_within_5_years_pct') }}, false) end
            as danish_exam_within_5_years,
        case when {{ cohort_window_closed('arrival_year', window('self_supporting_within_1095_days_pct'), 'as_of_date') }}
            then coalesce(self_support_date - arrival_date <= {{ window('self_supporting_within_1095_days_pct') }}, false) end
            as self_supporting_within_1095_days,
        first_welcome_house_date is not null as welcome_house,
        volunteer_organisations
    from milestones
)

select * from outcomes
