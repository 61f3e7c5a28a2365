import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();

// Set by the test that proves a program error fails `pulumi up` with its message shown.
const failWith = config.get("failWith");
if (failWith) {
    throw new Error(failWith);
}

// A type annotation, so the program only runs if the TypeScript compiler ran.
const message: string = config.require("message");
export const greeting: pulumi.Output<string> = pulumi.output(message);
