-- chats in the later version of the schema: one chat per customer-stylist pair.
CREATE TABLE IF NOT EXISTS public.chats (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    customer_id uuid NOT NULL REFERENCES public.profiles (id),
    stylist_id uuid NOT NULL REFERENCES public.profiles (id),
    UNIQUE (customer_id, stylist_id)
);
